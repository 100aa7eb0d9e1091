/**
 * Sets a Temporal namespace up for tasks (`npm run temporal:setup`): the step an operator runs
 * against their own cluster before workers and API instances start, and again on every deploy
 * (it only adds what is missing). It connects as the service does (TEMPORAL_ADDRESS, TLS and
 * API key variables), registers TEMPORAL_NAMESPACE when it is missing and the task search
 * attributes, and returns once Temporal accepts both.
 *
 *   npm run temporal:setup [-- --retention-days 7]
 */
import { Connection } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { describeError } from '../common/error-chain';
import { ConfigError, configFromEnvironment } from '../config/app-config';
import { temporalConnectionOptions } from '../temporal/connection-options';
import { setUpTemporal } from '../temporal/temporal-setup';

class UsageError extends Error {}

const DEFAULT_RETENTION_DAYS = 7;

export async function run(argv: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'retention-days': { type: 'string' } } });
  const retentionDays = Number(values['retention-days'] ?? DEFAULT_RETENTION_DAYS);
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new UsageError('--retention-days must be a whole number of days, 1 or more');
  }
  const config = configFromEnvironment();
  // Unset: the server `npm start` or `npm run start:cluster` runs on this machine.
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.port}`;
  const { namespace } = config.temporal;
  out(`Temporal at ${address}, namespace "${namespace}"`);
  const connection = Connection.lazy({ ...temporalConnectionOptions(config), address });
  try {
    await setUpTemporal(connection, namespace, { retentionDays, log: out });
  } finally {
    await connection.close();
  }
  out('Ready for tasks');
}

if (require.main === module) {
  run(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`)).catch((err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${describeError(err)}\n`);
    process.exit(1);
  });
}
