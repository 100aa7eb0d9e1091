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
  });
  exitOnSignals(app);
}

bootstrap().catch(exitOnStartupError);
