/**
 * Prebundles the workflow code at build time, so workers start without running webpack.
 * Run by `npm run build` from dist/scripts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleTaskWorkflows } from '../temporal/task-worker';

async function main(): Promise<void> {
  writeFileSync(join(__dirname, '..', 'workflow-bundle.js'), await bundleTaskWorkflows());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
