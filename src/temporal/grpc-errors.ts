import { NamespaceNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { google } from '@temporalio/proto';
import { TaskNotFoundError, TaskServiceUnavailableError } from './errors';
import { SEARCH_ATTRIBUTES } from '../workflows/contract';
import { TemporalSetupError } from './temporal-setup-error';

// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
const INVALID_ARGUMENT = 3;
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND = 5;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;

const NAMESPACE_NOT_FOUND_DETAIL = 'temporal.api.errordetails.v1.NamespaceNotFoundFailure';

/** The error and each error it wraps. */
function* chain(err: unknown): Generator<object> {
  for (let e = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    yield e;
  }
}

/** The gRPC status of an error or of the error it wraps. */
export function grpcCode(err: unknown): number | undefined {
  for (const e of chain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** The type URLs of the details Temporal attached to a gRPC error (grpc-status-details-bin). */
function statusDetailTypes(e: object): string[] {
  const metadata = (e as { metadata?: { get?: (key: string) => unknown[] } }).metadata;
  const bin = typeof metadata?.get === 'function' ? metadata.get('grpc-status-details-bin')[0] : 0;
  if (!(bin instanceof Uint8Array)) return [];
  try {
    return google.rpc.Status.decode(bin).details.map((d) => d.type_url ?? '');
  } catch {
    return [];
  }
}

/**
 * Whether Temporal answered that the configured namespace does not exist. Temporal says so with
 * NOT_FOUND, the same code as for a missing workflow: the SDK turns some of these calls into
 * `NamespaceNotFoundError`, raw service calls keep the gRPC error with a detail naming it.
 */
export function isNamespaceNotFound(err: unknown): boolean {
  for (const e of chain(err)) {
    if (e instanceof NamespaceNotFoundError) return true;
    if ((e as { code?: unknown }).code !== NOT_FOUND) continue;
    if (statusDetailTypes(e).some((t) => t.endsWith(NAMESPACE_NOT_FOUND_DETAIL))) return true;
    // Native (Rust core) connections do not pass the details on; the message is stable.
    if (/\bnamespace\b.*\bnot found\b/i.test(String((e as { message?: unknown }).message))) {
      return true;
    }
  }
  return false;
}

/**
 * Whether Temporal refused one of the task search attributes as unknown. Right after they are
 * added, a cluster with SQL visibility answers this until every service's namespace cache has
 * refreshed (every 2 s by default): "Namespace x has no mapping defined for search attribute
 * TenantId".
 */
export function isUnknownTaskSearchAttribute(err: unknown): boolean {
  if (grpcCode(err) !== INVALID_ARGUMENT) return false;
  const message = [...chain(err)].map((e) => String((e as { message?: unknown }).message)).join();
  return (
    /search attribute|field name/i.test(message) &&
    SEARCH_ATTRIBUTES.some((a) => message.includes(a.name))
  );
}

/** Translates Temporal client errors into domain errors at the boundary. */
export function translateTemporalError(err: unknown): unknown {
  if (err instanceof TaskServiceUnavailableError || err instanceof TaskNotFoundError) return err;
  // Before NOT_FOUND: a missing namespace is the operator's to fix, not a missing task.
  if (isNamespaceNotFound(err) || err instanceof TemporalSetupError) {
    return new TaskServiceUnavailableError({
      cause: err instanceof TemporalSetupError ? err : TemporalSetupError.namespaceMissing(err),
    });
  }
  if (err instanceof WorkflowNotFoundError) return new TaskNotFoundError();
  const code = grpcCode(err);
  if (code === NOT_FOUND) return new TaskNotFoundError();
  // RESOURCE_EXHAUSTED: Temporal sheds load (a namespace rate limit, a busy workflow) and still
  // does so once the client's retries are spent. Nothing is wrong with the request: try later.
  if (code === UNAVAILABLE || code === DEADLINE_EXCEEDED || code === RESOURCE_EXHAUSTED) {
    return new TaskServiceUnavailableError({ cause: err });
  }
  // Still unknown once the wait for a fresh registration is over: not registered at all.
  if (isUnknownTaskSearchAttribute(err)) {
    return new TaskServiceUnavailableError({
      cause: TemporalSetupError.searchAttributesMissing(undefined, err),
    });
  }
  return err;
}

/** Whether an unavailable error came from a deadline rather than an unreachable server. */
export const isDeadline = (err: TaskServiceUnavailableError): boolean =>
  grpcCode(err.cause) === DEADLINE_EXCEEDED;
