import { ArgumentsHost, BadRequestException, Logger, NotFoundException } from '@nestjs/common';
import { ForbiddenError, UnauthenticatedError } from '../auth/errors';
import {
  IdempotencyConflictError,
  TaskAlreadyTerminalError,
  TaskNotFoundError,
  TaskServiceUnavailableError,
  TaskStateConflictError,
} from '../tasks/errors';
import { InvalidInputError, PayloadTooLargeError } from './domain-error';
import { HttpErrorFilter } from './http-error.filter';

function respond(
  exception: unknown,
  request: object = {},
): { status: number; body: unknown; ended: boolean } {
  const sent = { status: 0, body: undefined as unknown, ended: false };
  const response = {
    headersSent: false,
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: unknown) {
      sent.body = body;
    },
    end() {
      sent.ended = true;
    },
  };
  const host = {
    switchToHttp: () => ({ getResponse: () => response, getRequest: () => request }),
  } as unknown as ArgumentsHost;
  new HttpErrorFilter().catch(exception, host);
  return sent;
}

describe('HttpErrorFilter', () => {
  it.each([
    [new InvalidInputError('Query is required'), 400, { error: 'Query is required' }],
    [
      new PayloadTooLargeError('Request body too large: the limit is 1 MiB'),
      413,
      { error: 'Request body too large: the limit is 1 MiB' },
    ],
    [new UnauthenticatedError(), 401, { error: 'Unauthorized' }],
    [new ForbiddenError(), 403, { error: 'Forbidden' }],
    [new TaskNotFoundError(), 404, { error: 'Task not found' }],
    [new TaskStateConflictError('task is not paused'), 409, { error: 'task is not paused' }],
    [
      new TaskAlreadyTerminalError('TIMEOUT'),
      409,
      { success: false, message: 'Task is already in terminal state: TIMEOUT', status: 'TIMEOUT' },
    ],
    [
      new IdempotencyConflictError(),
      422,
      { error: 'Idempotency-Key was already used with a different request' },
    ],
    [new TaskServiceUnavailableError(), 503, { error: 'Task service unavailable' }],
  ])('maps %p to %i', (error, status, body) => {
    expect(respond(error)).toEqual({ status, body, ended: false });
  });

  it("keeps Nest's own HTTP errors' status and message", () => {
    const routed = { route: { path: '/api/v1/things' } };
    expect(respond(new NotFoundException('No such thing'), routed)).toMatchObject({
      status: 404,
      body: { error: 'No such thing' },
    });
    expect(respond(new BadRequestException(['a is wrong', 'b is wrong']))).toMatchObject({
      status: 400,
      body: { error: 'a is wrong; b is wrong' },
    });
  });

  it('answers a request no route matched without echoing its URL, which may carry a key', () => {
    expect(respond(new NotFoundException('Cannot GET /nope?api_key=sk_secret'))).toEqual({
      status: 404,
      body: { error: 'Route not found' },
      ended: false,
    });
  });

  it('answers anything unexpected with a 500, an error id and no internals, and logs the id', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { status, body } = respond(new TypeError('secret internals at /srv/app.js:12'));

    expect(status).toBe(500);
    expect(body).toEqual({
      error: 'Internal server error',
      error_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(JSON.stringify(body)).not.toContain('secret');
    expect(logged).toHaveBeenCalledWith(
      `Unhandled error ${(body as { error_id: string }).error_id}: TypeError: secret internals at /srv/app.js:12`,
      expect.stringContaining('secret internals'),
    );
    logged.mockRestore();
  });

  it('logs the cause a Temporal error wraps, on the same line as the error id', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const grpc = Object.assign(new Error('3 INVALID_ARGUMENT: bad request'), { code: 3 });
    const err = new Error('Failed to start Workflow', { cause: grpc });
    err.name = 'ServiceError';
    const { body } = respond(err);

    expect(logged).toHaveBeenCalledWith(
      `Unhandled error ${(body as { error_id: string }).error_id}: ServiceError: Failed to start Workflow <- Error: 3 INVALID_ARGUMENT: bad request`,
      expect.any(String),
    );
    logged.mockRestore();
  });

  it('logs why the task service is unavailable once per cause, not once per request', () => {
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const filter = new HttpErrorFilter();
    const cause = Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
      code: 14,
    });
    for (let i = 0; i < 3; i++) filter.toResponse(new TaskServiceUnavailableError({ cause }));

    expect(warned.mock.calls).toEqual([
      ['Task service unavailable: Error: 14 UNAVAILABLE: No connection established'],
    ]);
    warned.mockRestore();
  });
});
