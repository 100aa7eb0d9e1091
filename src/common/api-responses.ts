import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiResponse, getSchemaPath } from '@nestjs/swagger';

/** Every error body: `{"error": "<message>"}`. */
export class ErrorResponseDto {
  @ApiProperty({ example: 'Task not found' }) error!: string;
}

export class InternalErrorResponseDto {
  @ApiProperty({ example: 'Internal server error' }) error!: string;
  @ApiProperty({
    description: 'Quote it when reporting the problem; it is in the server log',
    example: '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d',
  })
  error_id!: string;
}

/** One documented error status with its example bodies, keyed by a short name. */
export const ApiError = (status: number, description: string, examples: Record<string, string>) =>
  applyDecorators(
    ApiExtraModels(ErrorResponseDto),
    ApiResponse({
      status,
      description,
      content: {
        'application/json': {
          schema: { $ref: getSchemaPath(ErrorResponseDto) },
          examples: Object.fromEntries(
            Object.entries(examples).map(([name, error]) => [name, { value: { error } }]),
          ),
        },
      },
    }),
  );

/** The errors any task route may answer, whatever it does. */
export const ApiCommonErrors = () =>
  applyDecorators(
    ApiError(400, 'Bad input; the message names the problem', {
      invalid_id: 'Invalid task ID format',
      too_deep: 'Invalid request body: nested more than 64 levels deep',
    }),
    ApiError(
      413,
      'Request body over 1 MiB, or a Content-Length announcing one (answered at once, and the ' +
        'connection closed)',
      { too_large: 'Request body too large: the limit is 1 MiB' },
    ),
    ApiError(503, 'Temporal cannot be reached', { unavailable: 'Task service unavailable' }),
    ApiExtraModels(ErrorResponseDto),
    ApiResponse({
      status: 429,
      description:
        'Too many requests with this key (limited responses carry X-RateLimit-* headers), or ' +
        'too many failed authentications from this client address (then answered instead of 401)',
      headers: {
        'Retry-After': {
          description: 'Seconds until the window resets',
          schema: { type: 'integer' },
        },
        'X-RateLimit-Limit': {
          description: 'Requests per key per minute',
          schema: { type: 'integer' },
        },
        'X-RateLimit-Remaining': {
          description: 'Left in this window',
          schema: { type: 'integer' },
        },
        'X-RateLimit-Reset': {
          description: 'Window end, Unix seconds',
          schema: { type: 'integer' },
        },
      },
      content: {
        'application/json': {
          schema: { $ref: getSchemaPath(ErrorResponseDto) },
          example: { error: 'Rate limit exceeded' },
        },
      },
    }),
    ApiResponse({
      status: 500,
      description: 'A bug: reported with an id that is also logged',
      type: InternalErrorResponseDto,
    }),
  );
