import { DomainError } from '../common/domain-error';
import type { TerminalStatus } from './task-status';

/** Unknown task, or a task of another tenant: the two must be indistinguishable. */
export class TaskNotFoundError extends DomainError {
  readonly code = 'TASK_NOT_FOUND';
  constructor() {
    super('Task not found');
  }
}

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

/** Temporal cannot be reached. */
export class TaskServiceUnavailableError extends DomainError {
  readonly code = 'TASK_SERVICE_UNAVAILABLE';
  constructor(options?: { cause?: unknown }) {
    super('Task service unavailable', options);
  }
}
