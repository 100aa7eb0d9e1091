import { startDevServer } from '../../src/temporal/dev-server';
import { devServerOptions } from '../support/dev-server';
import { startWorkerProcess } from '../support/processes';
import { E2E_TASK_QUEUE, type E2eGlobals } from '../support/e2e-env';

/** One real Temporal dev server (in memory) and one worker process for the whole run. */
export default async function globalSetup(): Promise<void> {
  const server = await startDevServer(await devServerOptions('e2e'));
  const worker = startWorkerProcess({ address: server.address, taskQueue: E2E_TASK_QUEUE });
  (globalThis as E2eGlobals).__e2e = { server, worker };
  process.env.E2E_TEMPORAL_ADDRESS = server.address;
}
