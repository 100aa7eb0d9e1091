import { ConsoleLogger, INestApplicationContext, Logger, LoggerService } from '@nestjs/common';
import { AppConfig, ConfigError } from './config/app-config';

/** The process logger: JSON lines or coloured lines, as configured. */
export const processLogger = (config: AppConfig): LoggerService =>
  new ConsoleLogger({
    json: config.logFormat === 'json',
    logLevels: ['error', 'warn', 'log'],
  });

const logger = new Logger('Lifecycle');

/** Longer than this and shutdown gives up: the process must be gone within 10 s. */
const SHUTDOWN_DEADLINE_MS = 9_000;

/** A configuration problem is reported as one clear line; anything else with its stack. */
export function exitOnStartupError(err: unknown): never {
  if (err instanceof ConfigError) logger.error(err.message);
  else logger.error('Start-up failed', err instanceof Error ? err.stack : String(err));
  process.exit(1);
}

/**
 * Shuts down in order on SIGTERM or SIGINT and exits 0: open event streams end (clients
 * reconnect elsewhere with their last event id), in-flight requests finish, the worker finishes
 * or hands back its activities, connections close; then `after` (the embedded Temporal server).
 * A second signal, or the deadline, exits at once with 1.
 */
export function exitOnSignals(
  app: INestApplicationContext,
  after: () => Promise<void> = async () => {},
): void {
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      logger.warn(`${signal} again: exiting at once`);
      process.exit(1);
    }
    stopping = true;
    logger.log(`${signal}: shutting down`);
    setTimeout(() => {
      logger.error(`Shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms: exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    try {
      await app.close();
      await after();
    } catch (err) {
      logger.error('Shutdown failed', err instanceof Error ? err.stack : String(err));
      process.exit(1);
    }
    process.exit(process.exitCode ?? 0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void stop(signal));
  }
}
