/**
 * `npm run test:cluster`: one `npm run start:cluster` for the whole run, on free ports, with
 * mutual TLS to Temporal (certificates made here with openssl) and the test keys. The contract
 * specs then talk to its load balancer and its Temporal (test/support/e2e-env.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { makeCertificates } from '../../deploy/tls/certificates';
import { clusterDataDir, clusterReady, launchCluster } from '../support/cluster';
import { E2E_TASK_QUEUE } from '../support/e2e-env';

export interface ClusterGlobals {
  __cluster?: { launcher: ChildProcess; dataDir: string; output: string };
}

/** The first start builds the Temporal server (minutes); test:cluster builds it before. */
const READY_TIMEOUT_MS = 180_000;

export default async function clusterGlobalSetup(): Promise<void> {
  const dataDir = clusterDataDir();
  makeCertificates(join(dataDir, 'tls'), 'task-control-api test CA');
  const cluster = await launchCluster({
    dataDir,
    env: { TEMPORAL_TLS: 'true', TEMPORAL_TASK_QUEUE: E2E_TASK_QUEUE },
  });
  const { launcher, output, port, temporalPort } = cluster;
  (globalThis as ClusterGlobals).__cluster = { launcher, dataDir, output };
  await clusterReady(cluster, READY_TIMEOUT_MS);
  process.env.E2E_TEMPORAL_ADDRESS = `127.0.0.1:${temporalPort}`;
  process.env.E2E_TEMPORAL_TLS_DIR = join(dataDir, 'tls');
  process.env.E2E_API_URL = `http://127.0.0.1:${port}`;
  process.env.E2E_CLUSTER_STATE = join(dataDir, 'cluster.json');
}
