import { DomainError } from '../common/domain-error';

/** Unknown batch, or a batch of another tenant: the two must be indistinguishable. */
export class BatchNotFoundError extends DomainError {
  readonly code = 'BATCH_NOT_FOUND';
  constructor() {
    super('Batch not found');
  }
}
