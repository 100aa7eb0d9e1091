/**
 * The Temporal server of the cluster: built from this folder's Go module into the per-user cache
 * (build.sh, once per version), its PostgreSQL schemas set up or upgraded (schema.sh), then
 * started with config.yaml and dynamic-config.yaml from this folder.
 */
import { Connection } from '@temporalio/client';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ServiceSpec } from '../supervisor';
import type { Postgres } from '../postgres/postgres';
import type { ClientTls } from '../tls/certificates';

/** Builds the server and its SQL tool unless cached; returns the directory that holds them. */
export function buildTemporalServer(): string {
  return execFileSync('bash', [join(__dirname, 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** Creates the databases when missing and upgrades both schemas to this server version. */
export function setUpSchemas(postgres: Postgres): void {
  const run = spawnSync('bash', [join(__dirname, 'schema.sh')], {
    env: {
      ...process.env,
      SQL_HOST: postgres.host,
      SQL_PORT: String(postgres.port),
      SQL_USER: postgres.user,
      SQL_PASSWORD: postgres.password,
    },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`Schema set-up failed:\n${run.stderr}`);
}

/** Whether the frontend answers and reaches its database. */
async function answers(address: string, tls: ClientTls | undefined): Promise<boolean> {
  const connection = await Connection.connect({ address, tls, connectTimeout: 1000 });
  try {
    await connection.withDeadline(Date.now() + 2000, () =>
      connection.workflowService.describeNamespace({ namespace: 'temporal-system' }),
    );
    return true;
  } finally {
    await connection.close();
  }
}

export function temporalServerSpec(options: {
  binDir: string;
  port: number;
  postgres: Postgres;
  /** Serve mutual TLS with the certificates in this directory. */
  tlsDir?: string;
  clientTls?: ClientTls;
  logFile: string;
}): ServiceSpec {
  const { binDir, port, postgres, tlsDir, clientTls, logFile } = options;
  const address = `127.0.0.1:${port}`;
  return {
    name: 'temporal-server',
    command: join(binDir, 'temporal-server'),
    args: ['--config-file', join(__dirname, 'config.yaml'), '--allow-no-auth', 'start'],
    env: {
      PATH: process.env.PATH,
      TEMPORAL_PORT: String(port),
      POSTGRES_HOST: postgres.host,
      POSTGRES_PORT: String(postgres.port),
      POSTGRES_USER: postgres.user,
      POSTGRES_PASSWORD: postgres.password,
      TEMPORAL_DYNAMIC_CONFIG: join(__dirname, 'dynamic-config.yaml'),
      ...(tlsDir ? { TEMPORAL_TLS_DIR: tlsDir } : {}),
      ...(process.env.TEMPORAL_LOG_LEVEL
        ? { TEMPORAL_LOG_LEVEL: process.env.TEMPORAL_LOG_LEVEL }
        : {}),
    },
    logFile,
    ready: () => answers(address, clientTls),
    readyTimeoutMs: 90_000,
    // It leaves the membership ring and drains its shards first.
    stopTimeoutMs: 20_000,
  };
}
