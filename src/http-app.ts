import { DynamicModule, INestApplication, LogLevel, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { API_KEY_SCHEME, BEARER_SCHEME } from './auth/auth.decorators';
import { hardenHttpServer } from './common/http-server';
import { refuseOversizedBody } from './common/json-body';
import { requestContext } from './common/request-context.middleware';
import { Tracing } from './common/tracing';
import { AppConfig } from './config/app-config';
import { rejectUndecodableTaskId } from './tasks/task-id.pipe';

/** Builds the HTTP application the same way for every entry point and for the tests. */
export async function createHttpApp(
  module: DynamicModule,
  logger: LoggerService | LogLevel[],
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    // Bodies are read by JsonBodyGuard, once the caller is authenticated.
    bodyParser: false,
    logger,
    // Start-up failures reach the entry point's handler, which stops what it started first.
    abortOnError: false,
  });
  const config = app.get(AppConfig);
  hardenHttpServer(app.getHttpServer(), config.http);
  app.disable('x-powered-by');
  // Clients never send If-None-Match for these answers; hashing every body is wasted work.
  app.set('etag', false);
  if (config.http.trustProxy !== undefined) app.set('trust proxy', config.http.trustProxy);
  app.use(securityHeaders());
  app.use(requestContext(app.get(Tracing), config.logFormat));
  app.use(noStoreForTasks);
  app.use(refuseOversizedBody);
  app.use(rejectUndecodableTaskId);
  setUpOpenApi(app, config);
  return app;
}

/** Listens on PORT, on HOST when set (every interface otherwise, Node's default). */
export async function listen(app: INestApplication, config: AppConfig): Promise<void> {
  if (config.http.host) await app.listen(config.port, config.http.host);
  else await app.listen(config.port);
}

/**
 * helmet's headers (nosniff, no framing, a CSP, ...). The CSP is the strictest Swagger UI on
 * /docs works with: its own scripts only, its inline styles, data: images. No
 * upgrade-insecure-requests: the API is served over plain HTTP by default, and "Try it out"
 * would then call an https:// origin that does not exist.
 */
const securityHeaders = () =>
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
    frameguard: { action: 'deny' },
  });

/** Task answers are per caller and change all the time: no cache may keep one. */
function noStoreForTasks(req: Request, res: Response, next: NextFunction): void {
  if (req.url.startsWith('/api/')) res.setHeader('Cache-Control', 'no-store');
  next();
}

const API_DESCRIPTION = [
  'Submit, watch, pause, resume and cancel long-running tasks on Temporal.',
  '',
  'Every answer under /api/v1 carries `Cache-Control: no-store`. What no route answers is JSON ' +
    'too: an unknown route 404 `{"error":"Route not found"}`; a request the HTTP server cannot ' +
    'parse 400 `{"error":"Bad request"}`; headers over 16 KiB 431 ' +
    '`{"error":"Request headers too large"}`; headers or body not received in time 408 ' +
    '`{"error":"Request timeout"}`. These close the connection.',
  '',
  'Failed authentications are counted per client address: past the budget ' +
    '(AUTH_FAILURES_PER_MINUTE) the answer is 429 with `Retry-After` instead of 401. A valid ' +
    'key is never refused for them.',
].join('\n');

/** The OpenAPI document of the app's routes, as served at /openapi.json. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Task control API')
    .setDescription(API_DESCRIPTION)
    .setVersion('1')
    // Relative: the server that serves this document (Swagger UI calls the page's own origin).
    .addServer('/', 'This server')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, API_KEY_SCHEME)
    .addBearerAuth({ type: 'http', scheme: 'bearer' }, BEARER_SCHEME)
    .build();
  // As package.json says: not licensed for use outside the project (no license URL to give).
  config.info.license = { name: 'UNLICENSED' };
  return SwaggerModule.createDocument(app, config);
}

function setUpOpenApi(app: INestApplication, config: AppConfig): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'openapi.json',
    // Off unless configured: a key kept in localStorage outlives the session, readable by any
    // script that ever runs on this origin.
    swaggerOptions: { persistAuthorization: config.docsPersistAuthorization },
  });
}
