import { Logger } from '@nestjs/common';
import { ConfigError } from './config/app-config';

/** A configuration problem is reported as one clear line; anything else with its stack. */
export function exitOnStartupError(err: unknown): never {
  const logger = new Logger('Startup');
  if (err instanceof ConfigError) logger.error(err.message);
  else logger.error('Start-up failed', err instanceof Error ? err.stack : String(err));
  process.exit(1);
}
