import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WORKFLOW_INTERCEPTOR_MODULES } from './task-worker';

/**
 * Histories recorded from real runs of earlier versions of the task workflow (pause, resume,
 * cancel while paused, a failed step, pause deadlines) and of the batch workflow. Running
 * workflows replay on the newest code after a deploy, so the code must make the same decisions
 * on each of them: a failure here means a change needs `patched()` or a new workflow type.
 * test/fixtures/record-histories.ts records the paths a change adds.
 */
const HISTORIES = join(__dirname, '..', '..', 'test', 'fixtures', 'histories');

describe('taskWorkflow replay', () => {
  jest.setTimeout(60_000);
  // The bundler and replay worker log every step at INFO; a failure still says why.
  beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN') }));

  it.each(readdirSync(HISTORIES).filter((name) => name.endsWith('.json')))(
    'replays %s without nondeterminism',
    async (name) => {
      // The JSON of `temporal workflow show --output json`, which the SDK converts itself.
      const history: unknown = JSON.parse(readFileSync(join(HISTORIES, name), 'utf8'));
      await expect(
        Worker.runReplayHistory(
          {
            workflowsPath: require.resolve('../workflows'),
            interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES },
          },
          history,
          name,
        ),
      ).resolves.toBeUndefined();
    },
  );
});
