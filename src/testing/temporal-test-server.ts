import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const INSTALL_SCRIPT = join(__dirname, '..', '..', 'deploy', 'temporal-test-server', 'install.sh');

/**
 * The launcher of Temporal's time-skipping test server, for `TestWorkflowEnvironment
 * .createTimeSkipping({ server: { executable: { type: 'existing-path', path } } })`: the Java
 * server from Maven Central, resolved into a per-user cache on first use (seconds; later calls
 * only check the cache). Throws when it cannot be had: a test that needs it fails, never skips.
 */
export function temporalTestServerLauncher(): string {
  const run = spawnSync('bash', [INSTALL_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const path = run.stdout?.trim();
  if (run.status !== 0 || !path) {
    throw new Error(
      `deploy/temporal-test-server/install.sh failed (${run.error?.message ?? `exit ${run.status}`}): ` +
        'the time-skipping tests need Java, Maven and Maven Central (its output is above)',
    );
  }
  return path;
}
