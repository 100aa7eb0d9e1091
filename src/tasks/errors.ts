import { DomainError } from '../common/domain-error';
import { TERMINAL_WORDS, type TerminalStatus } from './task-status';

// What the Temporal boundary answers, thrown there and by task rules alike.
export { TaskNotFoundError, TaskServiceUnavailableError } from '../temporal/errors';

/** The task's state does not allow a pause or resume; the message is the documented one. */
export class TaskStateConflictError extends DomainError {
  readonly code = 'TASK_STATE_CONFLICT';

  static closed(action: 'pause' | 'resume', status: TerminalStatus): TaskStateConflictError {
    return new TaskStateConflictError(`cannot ${action} ${TERMINAL_WORDS[status]} task`);
  }

  static cancelled(action: 'pause' | 'resume'): TaskStateConflictError {
    return new TaskStateConflictError(`cannot ${action} cancelled task`);
  }

  static alreadyPaused(): TaskStateConflictError {
    return new TaskStateConflictError('task is already paused');
  }

  static notPaused(): TaskStateConflictError {
    return new TaskStateConflictError('task is not paused');
  }
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
