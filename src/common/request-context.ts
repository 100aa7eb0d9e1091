import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/** W3C trace context of one request: `00-<trace id>-<span id>-<flags>`. */
export interface TraceContext {
  traceId: string;
  /** This request's own span, the parent of whatever it causes downstream. */
  spanId: string;
  flags: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The caller's trace, continued with a span of our own; a new trace when absent or malformed. */
export function continueTrace(traceparent: string | undefined): TraceContext {
  const match = TRACEPARENT.exec(traceparent?.trim().toLowerCase() ?? '');
  const valid = match && !/^0+$/.test(match[1]) && !/^0+$/.test(match[2]);
  return {
    traceId: valid ? match[1] : randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    flags: valid ? match[3] : '01',
  };
}

export const formatTraceparent = (trace: TraceContext): string =>
  `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;

/** What the logs and the Temporal calls of a request need to know about it. */
export interface RequestContext {
  requestId: string;
  trace: TraceContext;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const runInRequestContext = <T>(context: RequestContext, fn: () => T): T =>
  storage.run(context, fn);

/** The context of the request being served, if any. */
export const currentRequest = (): RequestContext | undefined => storage.getStore();
