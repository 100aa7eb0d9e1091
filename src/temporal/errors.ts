/**
 * The domain errors Temporal's answers are translated into at this boundary (grpc-errors.ts).
 * Defined here, below the task rules that also throw them, so the adapter imports nothing of
 * src/tasks.
 */
import { DomainError } from '../common/domain-error';

/** Unknown task, or a task of another tenant: the two must be indistinguishable. */
export class TaskNotFoundError extends DomainError {
  readonly code = 'TASK_NOT_FOUND';
  constructor() {
    super('Task not found');
  }
}

/** Temporal cannot be reached, or refuses calls for load (RESOURCE_EXHAUSTED). */
export class TaskServiceUnavailableError extends DomainError {
  readonly code = 'TASK_SERVICE_UNAVAILABLE';
  constructor(options?: { cause?: unknown }) {
    super('Task service unavailable', options);
  }
}
