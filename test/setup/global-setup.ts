import { Logger } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer } from '../../src/temporal/dev-server';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import { freePort } from '../support/ports';
import { startWorkerProcess } from '../support/processes';
import { E2E_TASK_QUEUE, type E2eGlobals } from '../support/e2e-env';

/** One real Temporal dev server (in memory) and one worker process for the whole run. */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'task-api-e2e-'));
  const server = await startDevServer({
    cliPath: resolveTemporalCli(process.env.TEMPORAL_CLI_PATH, new Logger('e2e')),
    port: await freePort(),
    namespace: 'default',
    logFile: join(dir, 'temporal-server.log'),
  });
  const worker = startWorkerProcess({ address: server.address, taskQueue: E2E_TASK_QUEUE });
  (globalThis as E2eGlobals).__e2e = { server, worker };
  process.env.E2E_TEMPORAL_ADDRESS = server.address;
}
