import { Logger } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { startDevServer } from '../../src/temporal/dev-server';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import { freePort } from './ports';

export type DevServerOptions = Parameters<typeof startDevServer>[0];

/**
 * Options for a Temporal dev server of a test's own, on a free port with its log in a fresh
 * folder named after `label`. `persist` keeps its data in a file there, so a restart with the
 * same options finds every workflow again; otherwise it is in memory.
 */
export async function devServerOptions(
  label: string,
  {
    persist = false,
    dynamicConfig,
  }: Pick<DevServerOptions, 'dynamicConfig'> & { persist?: boolean } = {},
): Promise<DevServerOptions> {
  const dir = mkdtempSync(join(tmpdir(), `task-api-${label}-`));
  return {
    cliPath: resolveTemporalCli(process.env.TEMPORAL_CLI_PATH, new Logger(label)),
    port: await freePort(),
    namespace: 'default',
    ...(persist && { dbFile: join(dir, 'temporal.db') }),
    logFile: join(dir, 'temporal-server.log'),
    ...(dynamicConfig && { dynamicConfig }),
  };
}
