import { DomainError } from '../common/domain-error';
import type { TerminalStatus } from './task-status';

// What the Temporal boundary answers, thrown there and by task rules alike.
export { TaskNotFoundError, TaskServiceUnavailableError } from '../temporal/errors';

/** The task's state does not allow the operation; the message is the documented one. */
export class TaskStateConflictError extends DomainError {
  readonly code = 'TASK_STATE_CONFLICT';
}

/** Cancel of a closed task. */
export class TaskAlreadyTerminalError extends DomainError {
  readonly code = 'TASK_ALREADY_TERMINAL';
  constructor(readonly status: TerminalStatus) {
    super(`Task is already in terminal state: ${status}`);
  }
}

/** `If-Match` named no current ETag of the task: nothing was sent to it. */
export class TaskChangedError extends DomainError {
  readonly code = 'TASK_CHANGED';
  constructor(readonly etag: string) {
    super('Task has changed');
  }
}

export class IdempotencyConflictError extends DomainError {
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor() {
    super('Idempotency-Key was already used with a different request');
  }
}
