/** The API process alone: HTTP in front of an existing Temporal (TEMPORAL_ADDRESS). */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { AppModule } from './app.module';
import { configFromEnvironment } from './config/app-config';
import { createHttpApp, listen } from './http-app';
import { exitOnSignals, exitOnStartupError, processLogger } from './startup';

async function bootstrap(): Promise<void> {
  const config = configFromEnvironment();
  const app = await createHttpApp(AppModule.forRoot(config), processLogger(config));
  exitOnSignals(app);
  await listen(app, config);
  new Logger('Main').log(
    `Task API listening on http://${config.http.host ?? 'localhost'}:${config.port}`,
  );
}

bootstrap().catch(exitOnStartupError);
