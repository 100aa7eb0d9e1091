/** The worker process alone: runs task workflows and activities, no HTTP. */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configFromEnvironment } from './config/app-config';
import { exitOnSignals, exitOnStartupError, processLogger } from './startup';
import { installTemporalRuntime } from './temporal/runtime';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  installTemporalRuntime();
  const config = configFromEnvironment();
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: processLogger(config),
    // A start-up failure (an executor module that does not load) is reported by
    // exitOnStartupError as one line naming the variable, not as a stack trace.
    abortOnError: false,
  });
  exitOnSignals(app);
}

bootstrap().catch(exitOnStartupError);
