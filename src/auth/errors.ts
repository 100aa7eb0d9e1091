import { DomainError } from '../common/domain-error';

/** Missing, unknown, expired or revoked key. */
export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED';
  constructor() {
    super('Unauthorized');
  }
}

/** A valid key without the scope the route needs. */
export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
  constructor() {
    super('Forbidden');
  }
}
