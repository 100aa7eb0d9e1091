import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { readFileSync } from 'node:fs';
import { AppConfig, ConfigError } from '../config/app-config';

const read = (variable: string, path: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${variable}=${path} cannot be read: ${(err as Error).message}`);
  }
};

/** Address, TLS and API key for every Temporal connection: the client's and the worker's. */
export function temporalConnectionOptions(config: AppConfig): {
  address?: string;
  tls?: TLSConfig;
  apiKey?: string;
} {
  const { address, tls, apiKey } = config.temporal;
  return {
    address,
    apiKey,
    tls: tls && {
      serverNameOverride: tls.serverName,
      serverRootCACertificate: tls.caPath ? read('TEMPORAL_TLS_CA_PATH', tls.caPath) : undefined,
      clientCertPair:
        tls.certPath && tls.keyPath
          ? {
              crt: read('TEMPORAL_TLS_CERT_PATH', tls.certPath),
              key: read('TEMPORAL_TLS_KEY_PATH', tls.keyPath),
            }
          : undefined,
    },
  };
}
