/**
 * `npm run test:cluster`: one `npm run start:cluster` for the whole run, on free ports, with
 * mutual TLS to Temporal (certificates made here with openssl) and the test keys. The contract
 * specs then talk to its load balancer and its Temporal (test/support/e2e-env.ts).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PORT_COUNT, TEMPORAL_PORT_COUNT } from '../../deploy/ports';
import { makeCertificates } from '../../deploy/tls/certificates';
import { E2E_TASK_QUEUE } from '../support/e2e-env';
import { writeKeysFile } from '../support/keys';
import { freePortRange } from '../support/ports';
import { ROOT } from '../support/processes';

export interface ClusterGlobals {
  __cluster?: { launcher: ChildProcess; dataDir: string; output: string };
}

/** The first start builds the Temporal server (minutes); test:cluster builds it before. */
const READY_TIMEOUT_MS = 180_000;

export default async function clusterGlobalSetup(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'task-api-cluster-'));
  // PostgreSQL runs as its own user, which must reach its data directory.
  chmodSync(dataDir, 0o755);
  makeCertificates(join(dataDir, 'tls'), 'task-control-api test CA');
  const port = await freePortRange(API_PORT_COUNT);
  const temporalPort = await freePortRange(TEMPORAL_PORT_COUNT);
  const output = join(dataDir, 'launcher.log');
  const log = openSync(output, 'a');
  const launcher = spawn(process.execPath, ['--import', 'tsx', 'deploy/cluster.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      TEMPORAL_PORT: String(temporalPort),
      DATA_DIR: dataDir,
      TEMPORAL_TLS: 'true',
      NODE_ENV: 'test',
      API_KEYS_FILE: writeKeysFile(),
      TEMPORAL_TASK_QUEUE: E2E_TASK_QUEUE,
      RATE_LIMIT_PER_MINUTE: '0',
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  (globalThis as ClusterGlobals).__cluster = { launcher, dataDir, output };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const text = readFileSync(output, 'utf8');
    if (text.includes('] Ready in')) break;
    if (launcher.exitCode !== null || Date.now() > deadline) {
      launcher.kill('SIGTERM');
      throw new Error(`The test cluster did not start (${output}):\n${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  process.env.E2E_TEMPORAL_ADDRESS = `127.0.0.1:${temporalPort}`;
  process.env.E2E_TEMPORAL_TLS_DIR = join(dataDir, 'tls');
  process.env.E2E_API_URL = `http://127.0.0.1:${port}`;
  process.env.E2E_CLUSTER_STATE = join(dataDir, 'cluster.json');
}
