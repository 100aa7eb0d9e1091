import type { TLSConfig } from '@temporalio/client';
import type { DevServer } from '../../src/temporal/dev-server';
import { clientTls, clientTlsEnv } from '../../deploy/tls/certificates';
import type { NodeProcess } from './processes';

export const E2E_TASK_QUEUE = 'tasks-e2e';

export interface E2eGlobals {
  __e2e?: { server: DevServer; worker: NodeProcess };
}

/**
 * The address of the run's Temporal: the dev server of `npm test`, or the frontend of the
 * cluster of `npm run test:cluster` (both set by the global setup).
 */
export function temporalAddress(): string {
  const address = process.env.E2E_TEMPORAL_ADDRESS;
  if (!address) throw new Error('E2E_TEMPORAL_ADDRESS is unset: run the e2e tests through jest');
  return address;
}

/** Where the certificates of a Temporal that requires mutual TLS are (the test cluster's). */
const tlsDir = (): string | undefined => process.env.E2E_TEMPORAL_TLS_DIR || undefined;

/** TLS options of a client of the run's Temporal (undefined: plain). */
export function temporalTls(): TLSConfig | undefined {
  const dir = tlsDir();
  return dir ? clientTls(dir) : undefined;
}

/** The service's variables for the run's Temporal at `address`: TLS when it is the cluster. */
export function temporalEnv(address = temporalAddress()): Record<string, string> {
  const dir = tlsDir();
  return {
    TEMPORAL_ADDRESS: address,
    ...(dir && address === process.env.E2E_TEMPORAL_ADDRESS ? clientTlsEnv(dir) : {}),
  };
}

/** The load balancer of the test cluster, when the run is `npm run test:cluster`. */
export const clusterApiUrl = (): string | undefined => process.env.E2E_API_URL || undefined;

/** The test cluster's cluster.json (processes and their PIDs). */
export function clusterStateFile(): string {
  const file = process.env.E2E_CLUSTER_STATE;
  if (!file) throw new Error('E2E_CLUSTER_STATE is unset: run through npm run test:cluster');
  return file;
}
