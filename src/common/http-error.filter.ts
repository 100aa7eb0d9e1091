import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { DomainError, DomainErrorCode, PayloadTooLargeError } from './domain-error';
import { worthDraining } from './json-body';
import { describeError } from './error-chain';

/** The same cause of a 503 is logged at most once in this long (an outage would flood logs). */
const UNAVAILABLE_LOG_INTERVAL_MS = 10_000;

export interface ErrorResponse {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const errorBody = (error: DomainError): Record<string, unknown> => ({ error: error.message });

/** The one table from domain error codes to the documented status and body. */
const DOMAIN_ERRORS: Record<
  DomainErrorCode,
  {
    status: number;
    body: (error: DomainError) => Record<string, unknown>;
    headers?: (error: DomainError) => Record<string, string>;
  }
> = {
  INVALID_INPUT: { status: HttpStatus.BAD_REQUEST, body: errorBody },
  PAYLOAD_TOO_LARGE: { status: HttpStatus.PAYLOAD_TOO_LARGE, body: errorBody },
  UNAUTHENTICATED: { status: HttpStatus.UNAUTHORIZED, body: errorBody },
  FORBIDDEN: { status: HttpStatus.FORBIDDEN, body: errorBody },
  TASK_NOT_FOUND: { status: HttpStatus.NOT_FOUND, body: errorBody },
  APPROVAL_NOT_FOUND: { status: HttpStatus.NOT_FOUND, body: errorBody },
  TASK_STATE_CONFLICT: { status: HttpStatus.CONFLICT, body: errorBody },
  TASK_ALREADY_TERMINAL: {
    status: HttpStatus.CONFLICT,
    body: (error) => ({
      success: false,
      message: error.message,
      status: (error as DomainError & { status: string }).status,
    }),
  },
  TASK_CHANGED: {
    status: HttpStatus.PRECONDITION_FAILED,
    body: (error) => ({
      error: error.message,
      etag: (error as DomainError & { etag: string }).etag,
    }),
    headers: (error) => ({ ETag: (error as DomainError & { etag: string }).etag }),
  },
  BATCH_NOT_FOUND: { status: HttpStatus.NOT_FOUND, body: errorBody },
  IDEMPOTENCY_CONFLICT: { status: HttpStatus.UNPROCESSABLE_ENTITY, body: errorBody },
  RATE_LIMITED: { status: HttpStatus.TOO_MANY_REQUESTS, body: errorBody },
  TASK_SERVICE_UNAVAILABLE: { status: HttpStatus.SERVICE_UNAVAILABLE, body: errorBody },
};

/** Whether a route of the app matched the request (none did for Nest's "Cannot GET ..." 404). */
const isRouted = (request: Request | undefined): boolean =>
  Boolean((request as { route?: unknown } | undefined)?.route);

/**
 * Whether the request came with a body that was not read (refused before it: no key, no route,
 * too large). Answering and closing costs nothing; draining up to 1 MiB would cost a stranger's
 * worth of CPU per request.
 */
function bodyUnread(request: Request | undefined): boolean {
  if (!request?.headers || request.complete) return false;
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  match(path: string): unknown;
}

/**
 * Methods the app routes for the request's path, when no route matched its method. As in
 * OpenAPI, a literal path (/api/v1/tasks/stream) hides the templated ones it also matches.
 */
function allowedMethods(request: Request): string[] {
  if (!request?.app) return [];
  const router = (request.app as unknown as { router?: { stack: RouteLayer[] } }).router;
  const routes = (router?.stack ?? []).flatMap((layer) =>
    layer.route && layer.match(request.path) ? [layer.route] : [],
  );
  const literal = routes.filter((route) => !route.path.includes(':'));
  const methods = (literal.length > 0 ? literal : routes).flatMap((route) =>
    Object.keys(route.methods).map((m) => m.toUpperCase()),
  );
  return [...new Set(methods)];
}

function httpExceptionMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/**
 * Turns every error into the documented JSON body. Anything unexpected becomes a 500 with an
 * error id that is logged with the stack; no stack ever reaches a client.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    const drain = exception instanceof PayloadTooLargeError && worthDraining(request);
    if (bodyUnread(request) && !drain && !response.headersSent) {
      response.setHeader('Connection', 'close');
    }
    const noRoute = exception instanceof NotFoundException && !isRouted(request);
    const allowed = noRoute ? allowedMethods(request) : [];
    if (allowed.length > 0 && !response.headersSent) {
      // The path exists, the method does not.
      response.setHeader('Allow', allowed.join(', '));
      response.status(HttpStatus.METHOD_NOT_ALLOWED).json({
        error: `Method ${request.method} not allowed; use ${allowed.join(', ')}`,
      });
      return;
    }
    if (noRoute && !response.headersSent) {
      // Never echo the URL: its query may carry a key (`?api_key=`).
      response.status(HttpStatus.NOT_FOUND).json({ error: 'Route not found' });
      return;
    }
    const { status, body, headers } = this.toResponse(exception);
    if (response.headersSent) {
      // A stream already started: the status is gone, so end it rather than corrupt it.
      response.end();
      return;
    }
    for (const [name, value] of Object.entries(headers ?? {})) response.setHeader(name, value);
    response.status(status).json(body);
  }

  /** When each cause of a 503 was last logged. */
  private readonly unavailableLogged = new Map<string, number>();

  toResponse(exception: unknown): ErrorResponse {
    if (exception instanceof DomainError) {
      if (exception.code === 'TASK_SERVICE_UNAVAILABLE') this.logUnavailable(exception);
      const entry = DOMAIN_ERRORS[exception.code];
      return {
        status: entry.status,
        body: entry.body(exception),
        ...(entry.headers && { headers: entry.headers(exception) }),
      };
    }
    if (exception instanceof HttpException) {
      return {
        status: exception.getStatus(),
        body: { error: httpExceptionMessage(exception) },
      };
    }
    const errorId = randomUUID();
    this.logger.error(
      `Unhandled error ${errorId}: ${describeError(exception)}`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: { error: 'Internal server error', error_id: errorId },
    };
  }

  /** Operators see why Temporal could not serve: unreachable, or a set-up step missing. */
  private logUnavailable(error: DomainError): void {
    const line = describeError(error.cause ?? error);
    const now = Date.now();
    if (now - (this.unavailableLogged.get(line) ?? 0) < UNAVAILABLE_LOG_INTERVAL_MS) return;
    if (this.unavailableLogged.size >= 100) this.unavailableLogged.clear();
    this.unavailableLogged.set(line, now);
    this.logger.warn(`Task service unavailable: ${line}`);
  }
}
