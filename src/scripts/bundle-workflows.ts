/**
 * Prebundles the workflow code at build time, so workers start without running webpack.
 * Run by `npm run build` from dist/scripts.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../temporal/task-worker';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: {
      log() {},
      info() {},
      debug() {},
      trace() {},
      warn: console.warn,
      error: console.error,
    },
  });
  writeFileSync(join(__dirname, '..', 'workflow-bundle.js'), code);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
