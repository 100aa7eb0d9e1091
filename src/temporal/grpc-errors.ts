import { WorkflowNotFoundError } from '@temporalio/client';
import { TaskNotFoundError, TaskServiceUnavailableError } from '../tasks/errors';

// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND = 5;
const UNAVAILABLE = 14;

/** The gRPC status of an error or of the error it wraps. */
function grpcCode(err: unknown): number | undefined {
  for (let e = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** Translates Temporal client errors into domain errors at the boundary. */
export function translateTemporalError(err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError) return new TaskNotFoundError();
  const code = grpcCode(err);
  if (code === NOT_FOUND) return new TaskNotFoundError();
  if (code === UNAVAILABLE || code === DEADLINE_EXCEEDED) {
    return new TaskServiceUnavailableError({ cause: err });
  }
  return err;
}

/** Whether an unavailable error came from a deadline rather than an unreachable server. */
export const isDeadline = (err: TaskServiceUnavailableError): boolean =>
  grpcCode(err.cause) === DEADLINE_EXCEEDED;
