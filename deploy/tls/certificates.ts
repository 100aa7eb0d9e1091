/**
 * Certificates for mutual TLS between Temporal and its clients, made with openssl: a CA, a
 * server certificate for localhost and 127.0.0.1, and a client certificate that the API, the
 * workers and the server's own system workers present. For one machine and for tests; in
 * production they come from your PKI.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Certificate files in a directory, by role. */
export const TLS_FILES = {
  ca: 'ca.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client.pem',
  clientKey: 'client-key.pem',
} as const;

/** The name the server certificate is issued to, and clients verify. */
export const TLS_SERVER_NAME = 'localhost';

const DAYS = '825';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A key and a certificate signed by the directory's CA, with these extensions. */
function issue(dir: string, name: string, subject: string, extensions: string): void {
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    TLS_FILES.ca,
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-days',
    DAYS,
    '-extfile',
    ext,
    '-out',
    `${name}.pem`,
  ]);
  rmSync(join(dir, `${name}.csr`));
  rmSync(ext);
}

/** Makes a CA, a server and a client certificate in `dir` unless they are there already. */
export function makeCertificates(dir: string, caName = 'task-control-api cluster CA'): void {
  if (Object.values(TLS_FILES).every((file) => existsSync(join(dir, file)))) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca-key.pem',
    '-out',
    TLS_FILES.ca,
    '-days',
    DAYS,
    '-subj',
    `/CN=${caName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  issue(
    dir,
    'server',
    `/CN=${TLS_SERVER_NAME}`,
    `subjectAltName=DNS:${TLS_SERVER_NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`,
  );
  issue(dir, 'client', '/CN=task-control-api', 'extendedKeyUsage=clientAuth\n');
}

/** The TLS options of a Temporal client presenting the directory's client certificate. */
export interface ClientTls {
  serverNameOverride: string;
  serverRootCACertificate: Buffer;
  clientCertPair: { crt: Buffer; key: Buffer };
}

export function clientTls(dir: string): ClientTls {
  return {
    serverNameOverride: TLS_SERVER_NAME,
    serverRootCACertificate: readFileSync(join(dir, TLS_FILES.ca)),
    clientCertPair: {
      crt: readFileSync(join(dir, TLS_FILES.clientCert)),
      key: readFileSync(join(dir, TLS_FILES.clientKey)),
    },
  };
}

/** The service's variables for the same (src/config): what the API and the workers get. */
export const clientTlsEnv = (dir: string): Record<string, string> => ({
  TEMPORAL_TLS_CA_PATH: join(dir, TLS_FILES.ca),
  TEMPORAL_TLS_CERT_PATH: join(dir, TLS_FILES.clientCert),
  TEMPORAL_TLS_KEY_PATH: join(dir, TLS_FILES.clientKey),
  TEMPORAL_TLS_SERVER_NAME: TLS_SERVER_NAME,
});
