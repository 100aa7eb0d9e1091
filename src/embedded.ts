/**
 * The embedded default (`npm start`): with no TEMPORAL_ADDRESS it starts a real Temporal dev
 * server persisted under DATA_DIR, then a worker and the API, in one process tree.
 */
import 'reflect-metadata';
import { DynamicModule, Logger, Module } from '@nestjs/common';
import { join, resolve } from 'node:path';
import { AppModule } from './app.module';
import { AppConfig, configFromEnvironment } from './config/app-config';
import { createHttpApp, listen } from './http-app';
import { exitOnSignals, exitOnStartupError, processLogger } from './startup';
import { DevServer, startDevServer } from './temporal/dev-server';
import { installTemporalRuntime } from './temporal/runtime';
import { resolveTemporalCli } from './temporal/temporal-cli';
import { WorkerModule } from './worker.module';

@Module({})
class EmbeddedModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: EmbeddedModule,
      imports: [AppModule.forRoot(config), WorkerModule.forRoot(config)],
    };
  }
}

const logger = new Logger('Embedded');

async function startTemporal(config: AppConfig): Promise<DevServer> {
  const dataDir = resolve(config.dataDir);
  logger.log(`Starting the Temporal dev server (state in ${join(dataDir, 'temporal.db')})`);
  return startDevServer({
    cliPath: resolveTemporalCli(config.temporal.cliPath, logger),
    port: config.temporal.port,
    uiPort: config.temporal.uiPort,
    namespace: config.temporal.namespace,
    dbFile: join(dataDir, 'temporal.db'),
    logFile: join(dataDir, 'temporal-server.log'),
    pidFile: join(dataDir, 'temporal-server.pid'),
  });
}

async function bootstrap(): Promise<void> {
  installTemporalRuntime();
  let config = configFromEnvironment();
  const server = config.temporal.address ? undefined : await startTemporal(config);
  if (server) config = config.withTemporalAddress(server.address);
  try {
    const app = await createHttpApp(EmbeddedModule.forRoot(config), processLogger(config));
    exitOnSignals(app, async () => server?.stop());
    await listen(app, config);
  } catch (err) {
    await server?.stop();
    throw err;
  }
  const base = `http://${config.http.host ?? 'localhost'}:${config.port}`;
  logger.log(`Task API:    ${base}/api/v1/tasks`);
  logger.log(`API docs:    ${base}/docs (OpenAPI: ${base}/openapi.json)`);
  logger.log(
    server?.uiUrl
      ? `Temporal UI: ${server.uiUrl}`
      : `Temporal:    ${config.temporal.address} (namespace ${config.temporal.namespace})`,
  );
}

bootstrap().catch(exitOnStartupError);
