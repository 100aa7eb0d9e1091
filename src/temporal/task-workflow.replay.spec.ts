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
/**
 * The workflow IDs the newer histories ran under (workflow code derives approval IDs and its
 * delivery workflow's ID from it); older ones replay under their file name.
 */
const WORKFLOW_IDS = JSON.parse(
  readFileSync(join(HISTORIES, 'workflow-ids.json'), 'utf8'),
) as Record<string, string>;

describe('taskWorkflow replay', () => {
  jest.setTimeout(60_000);
  // The bundler and replay worker log every step at INFO; a failure still says why.
  beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN') }));

  it.each(readdirSync(HISTORIES).filter((name) => /^v\d+-.*\.json$/.test(name)))(
    'replays %s without nondeterminism',
    async (name) => {
      // The JSON of `temporal workflow show --output json`, which the SDK converts itself.
      const history: unknown = JSON.parse(readFileSync(join(HISTORIES, name), 'utf8'));
      await expect(
        Worker.runReplayHistory(
          {
            workflowsPath: require.resolve('../workflows'),
            interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES },
            // Registered as the worker registers it (never called while replaying).
            sinks: { taskNotices: { changed: { fn: () => undefined } } },
          },
          history,
          WORKFLOW_IDS[name] ?? name,
        ),
      ).resolves.toBeUndefined();
    },
  );
});
