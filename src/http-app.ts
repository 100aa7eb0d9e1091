import { DynamicModule, INestApplication, LogLevel, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { json, type RequestHandler } from 'express';
import { API_KEY_SCHEME, BEARER_SCHEME } from './auth/auth.decorators';
import { InvalidInputError, PayloadTooLargeError } from './common/domain-error';
import { requestContext } from './common/request-logging';
import { Tracing } from './common/tracing';
import { AppConfig } from './config/app-config';

export const BODY_LIMIT = '1mb';

/** Builds the HTTP application the same way for every entry point and for the tests. */
export async function createHttpApp(
  module: DynamicModule,
  logger: LoggerService | LogLevel[],
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    // Our own JSON parser below: the default one would cap bodies at 100 KB.
    bodyParser: false,
    logger,
  });
  app.disable('x-powered-by');
  // Clients never send If-None-Match for these answers; hashing every body is wasted work.
  app.set('etag', false);
  app.use(requestContext(app.get(Tracing), app.get(AppConfig).logFormat));
  app.use(jsonBodyParser());
  setUpOpenApi(app);
  return app;
}

/**
 * Reads every body as JSON (so `curl -d '{...}'` without a Content-Type works too) and turns
 * the parser's errors into domain errors with the documented messages.
 */
function jsonBodyParser(): RequestHandler {
  const parse = json({ limit: BODY_LIMIT, type: () => true });
  return (req, res, next) =>
    parse(req, res, (err?: unknown) => {
      if (err === undefined) return next();
      const { type, message } = err as { type?: string; message?: string };
      next(
        type === 'entity.too.large'
          ? new PayloadTooLargeError('Request body too large: the limit is 1 MiB')
          : new InvalidInputError(`Invalid request body: ${message ?? 'unreadable'}`),
      );
    });
}

/** The OpenAPI document of the app's routes, as served at /openapi.json. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Task control API')
    .setDescription('Submit, watch, pause, resume and cancel long-running tasks on Temporal.')
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, API_KEY_SCHEME)
    .addBearerAuth({ type: 'http', scheme: 'bearer' }, BEARER_SCHEME)
    .build();
  return SwaggerModule.createDocument(app, config);
}

function setUpOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'openapi.json',
    swaggerOptions: { persistAuthorization: true },
  });
}
