import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';

/** W3C trace context of one request: `00-<trace id>-<span id>-<flags>`. */
export interface TraceContext {
  traceId: string;
  /** This request's own span, the parent of whatever it causes downstream. */
  spanId: string;
  flags: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The caller's span from a `traceparent` header; undefined when absent or malformed. */
export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  const match = TRACEPARENT.exec(header?.trim().toLowerCase() ?? '');
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return undefined;
  return { traceId: match[1], spanId: match[2], flags: match[3] };
}

/** Random bytes taken from a pool refilled 4 KiB at a time, as hex: cheap enough per request. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += bytes;
  return pool.toString('hex', poolOffset - bytes, poolOffset);
}

/** The caller's trace, continued with a span of our own; a new trace when there is none. */
export function continueTrace(caller: TraceContext | undefined): TraceContext {
  return {
    traceId: caller?.traceId ?? randomHex(16),
    spanId: randomHex(8),
    flags: caller?.flags ?? '01',
  };
}

export const formatTraceparent = (trace: TraceContext): string =>
  `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;

/** What the logs and the Temporal calls of a request need to know about it. */
export interface RequestContext {
  requestId: string;
  trace: TraceContext;
  /** The caller's tenant, once its key is accepted (for the request's log line and span). */
  tenantId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const runInRequestContext = <T>(context: RequestContext, fn: () => T): T =>
  storage.run(context, fn);

/** The context of the request being served, if any. */
export const currentRequest = (): RequestContext | undefined => storage.getStore();

/** Records the tenant of the request being served, once authenticated. */
export function setRequestTenant(tenantId: string): void {
  const context = storage.getStore();
  if (context) context.tenantId = tenantId;
}
