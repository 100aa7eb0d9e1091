/**
 * Errors that services throw. Each carries a stable code; the exception filter maps codes to
 * the documented HTTP status and body from one table, so services never speak HTTP.
 */
export type DomainErrorCode =
  | 'INVALID_INPUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'TASK_NOT_FOUND'
  | 'APPROVAL_NOT_FOUND'
  | 'TASK_STATE_CONFLICT'
  | 'TASK_ALREADY_TERMINAL'
  | 'TASK_CHANGED'
  | 'BATCH_NOT_FOUND'
  | 'IDEMPOTENCY_CONFLICT'
  | 'RATE_LIMITED'
  | 'TASK_SERVICE_UNAVAILABLE';

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;

  override get name(): string {
    return this.constructor.name;
  }
}

/** Bad input of any kind; the message names the problem and is shown to the client. */
export class InvalidInputError extends DomainError {
  readonly code = 'INVALID_INPUT';
}

export class PayloadTooLargeError extends DomainError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}
