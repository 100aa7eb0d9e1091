import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { ValidateIf } from 'class-validator';
import { InvalidInputError } from './domain-error';

/**
 * An optional body field: it may be left out, but `null` is checked like any other value (and
 * refused), as the OpenAPI schema says. class-validator's IsOptional would let null through.
 */
export const Omittable = () => ValidateIf((_object, value) => value !== undefined);

/** The first constraint message, descending into nested objects. */
function firstMessage(errors: ValidationError[]): string {
  for (const error of errors) {
    const message = Object.values(error.constraints ?? {})[0];
    if (message) return message;
    const nested = firstMessage(error.children ?? []);
    if (nested) return nested;
  }
  return 'Invalid request';
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * class-validator validation of bodies, queries and params. Unknown body fields are dropped,
 * known ones validated strictly; a failure becomes a 400 naming the first problem.
 */
@Injectable()
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      transform: true,
      stopAtFirstError: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new InvalidInputError(firstMessage(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      // No body at all means "no optional fields"; anything but an object is malformed.
      if (value === undefined) value = {};
      else if (!isPlainObject(value)) {
        throw new InvalidInputError('Invalid request body: expected a JSON object');
      }
    }
    return super.transform(value, metadata);
  }
}
