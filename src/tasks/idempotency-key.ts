import { ApiHeader } from '@nestjs/swagger';
import { InvalidInputError } from '../common/domain-error';

/** 1 to 255 visible ASCII characters. */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` header of a submit, checked; undefined when absent. */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(header)) {
    throw new InvalidInputError(
      'Invalid Idempotency-Key header: use 1 to 255 visible ASCII characters',
    );
  }
  return header;
}

/** Documents the header with the rule `idempotencyKeyOf` enforces. */
export const ApiIdempotencyKeyHeader = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source, maxLength: 255 },
    description:
      'The same key with the same body within 24 h gives the same task, never a second one',
  });
