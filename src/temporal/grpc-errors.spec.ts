import { NamespaceNotFoundError, ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { google, temporal } from '@temporalio/proto';
import { TaskNotFoundError, TaskServiceUnavailableError } from './errors';
import {
  isNamespaceNotFound,
  isUnknownTaskSearchAttribute,
  translateTemporalError,
} from './grpc-errors';
import { TemporalSetupError } from './temporal-setup-error';

/** A gRPC error as grpc-js hands it over, with Temporal's status details when given. */
function grpcError(code: number, message: string, detailType?: string): Error {
  const details = detailType
    ? google.rpc.Status.encode({
        code,
        message,
        details: [
          {
            type_url: `type.googleapis.com/${detailType}`,
            value: temporal.api.errordetails.v1.NamespaceNotFoundFailure.encode({
              namespace: 'tasks',
            }).finish(),
          },
        ],
      }).finish()
    : undefined;
  return Object.assign(new Error(`${code} ${message}`), {
    code,
    details: message,
    metadata: {
      get: (key: string) => (key === 'grpc-status-details-bin' && details ? [details] : []),
    },
  });
}

const NAMESPACE_NOT_FOUND = 'temporal.api.errordetails.v1.NamespaceNotFoundFailure';

describe('translateTemporalError', () => {
  it('makes a missing namespace a 503 naming the set-up command, not a missing task', () => {
    for (const err of [
      // Told by the status detail alone, whatever the message says.
      grpcError(5, 'not found', NAMESPACE_NOT_FOUND),
      // The native (worker) connection passes no details on.
      grpcError(5, 'Namespace tasks is not found.'),
      new NamespaceNotFoundError('tasks'),
      new ServiceError('Failed to start Workflow', {
        cause: grpcError(5, 'Namespace tasks is not found.', NAMESPACE_NOT_FOUND),
      }),
    ]) {
      expect(isNamespaceNotFound(err)).toBe(true);
      const translated = translateTemporalError(err) as TaskServiceUnavailableError;
      expect(translated).toBeInstanceOf(TaskServiceUnavailableError);
      expect((translated.cause as Error).message).toMatch(
        /^Temporal namespace ("tasks" )?does not exist: create it with "npm run temporal:setup"$/,
      );
    }
  });

  it('keeps a missing workflow a missing task', () => {
    expect(translateTemporalError(new WorkflowNotFoundError('gone', 'task_1', undefined))).toEqual(
      new TaskNotFoundError(),
    );
    expect(translateTemporalError(grpcError(5, 'workflow not found for ID: task_1'))).toEqual(
      new TaskNotFoundError(),
    );
  });

  it('makes a task search attribute Temporal does not know a 503 naming the command', () => {
    const err = new ServiceError('Failed to start Workflow', {
      cause: grpcError(3, 'Namespace tasks has no mapping defined for search attribute TenantId'),
    });
    expect(isUnknownTaskSearchAttribute(err)).toBe(true);
    const translated = translateTemporalError(err) as TaskServiceUnavailableError;
    expect(translated).toBeInstanceOf(TaskServiceUnavailableError);
    expect(translated.cause).toBeInstanceOf(TemporalSetupError);
  });

  it('makes Temporal shedding load a 503, its cause kept for the log', () => {
    // What a cluster on its default visibility rate limit answers a list beyond 10 calls a second.
    const err = grpcError(8, 'namespace rate limit exceeded');
    const translated = translateTemporalError(err) as TaskServiceUnavailableError;
    expect(translated).toBeInstanceOf(TaskServiceUnavailableError);
    expect(translated.cause).toBe(err);
  });

  it('leaves other bad arguments alone (a 500 with its cause logged)', () => {
    const err = grpcError(3, 'invalid query: unknown field Foo');
    expect(isUnknownTaskSearchAttribute(err)).toBe(false);
    expect(translateTemporalError(err)).toBe(err);
  });
});
