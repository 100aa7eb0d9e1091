import { DomainError } from '../common/domain-error';

/** No approval with that ID on the task (the task itself exists and is the caller's). */
export class ApprovalNotFoundError extends DomainError {
  readonly code = 'APPROVAL_NOT_FOUND';
  constructor() {
    super('Approval not found');
  }
}
