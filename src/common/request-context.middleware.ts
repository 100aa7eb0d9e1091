import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { RequestContext, formatTraceparent, runInRequestContext } from './request-context';
import type { Tracing } from './tracing';

const CONTEXT = 'HTTP';
const logger = new Logger(CONTEXT);

type RequestLine = Record<string, string | number | undefined>;

/**
 * Writes a request's line. JSON lines have the process logger's shape (level, pid, timestamp,
 * message, context) but skip its general-purpose serializer: this runs once per request.
 */
function requestLineWriter(format: 'json' | 'pretty'): (line: RequestLine) => void {
  if (format === 'pretty') return (line) => logger.log(line);
  const { pid } = process;
  return (line) =>
    void process.stdout.write(
      `${JSON.stringify({ level: 'log', pid, timestamp: Date.now(), message: line, context: CONTEXT })}\n`,
    );
}

/** The route pattern, never the URL: a query may carry an API key (`?api_key=`). */
function routeOf(req: Request): string {
  const route = (req as { route?: { path?: string } }).route?.path;
  return route ? `${req.baseUrl}${route}` : req.path;
}

function taskIdOf(req: Request, res: Response): string | undefined {
  const fromParams = (req.params as Record<string, string> | undefined)?.id;
  const fromQuery = typeof req.query.workflow_id === 'string' ? req.query.workflow_id : undefined;
  const fromResponse = res.getHeader('X-Workflow-ID');
  return fromParams ?? fromQuery ?? (typeof fromResponse === 'string' ? fromResponse : undefined);
}

/**
 * Gives each request an id and a W3C trace context (continued from `traceparent` or new), answers
 * with both, keeps them for the Temporal calls it makes, and logs one structured line when it
 * ends. Headers and URLs are never logged, so neither are keys.
 */
export function requestContext(tracing: Tracing, logFormat: 'json' | 'pretty') {
  const log = requestLineWriter(logFormat);
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const header = req.headers['x-request-id'];
    const requestId =
      typeof header === 'string' && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
    const incoming = req.headers.traceparent;
    const span = tracing.startRequest(
      req.method,
      typeof incoming === 'string' ? incoming : undefined,
    );
    const { trace } = span;
    // The guard adds the tenant once the key is accepted; the line is written at the end.
    const context: RequestContext = { requestId, trace };
    res.setHeader('X-Request-ID', requestId);
    res.setHeader('traceparent', formatTraceparent(trace));
    res.on('finish', () => {
      const route = routeOf(req);
      const tenant = context.tenantId;
      const taskId = taskIdOf(req, res);
      log({
        msg: 'request',
        request_id: requestId,
        trace_id: trace.traceId,
        tenant,
        task_id: taskId,
        method: req.method,
        route,
        status: res.statusCode,
        duration_ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
      });
      span.end({ 'http.route': route, 'tenant.id': tenant, 'task.id': taskId }, res.statusCode);
    });
    runInRequestContext(context, next);
  };
}
