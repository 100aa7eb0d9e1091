/** The worker process alone: runs task workflows and activities, no HTTP. */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { configFromEnvironment } from './config/app-config';
import { exitOnSignals, exitOnStartupError } from './startup';
import { installTemporalRuntime } from './temporal/runtime';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  installTemporalRuntime();
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot(configFromEnvironment()),
    {
      logger: ['error', 'warn', 'log'],
    },
  );
  exitOnSignals(app);
}

bootstrap().catch(exitOnStartupError);
