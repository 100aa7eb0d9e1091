import { describeError } from './error-chain';

describe('describeError', () => {
  it('names every error of the cause chain on one line', () => {
    const grpc = Object.assign(new Error('3 INVALID_ARGUMENT: no mapping\nfor TenantId'), {
      code: 3,
    });
    const err = new Error('Failed to start Workflow', { cause: grpc });
    err.name = 'ServiceError';
    expect(describeError(err)).toBe(
      'ServiceError: Failed to start Workflow <- Error: 3 INVALID_ARGUMENT: no mapping for TenantId',
    );
  });

  it('describes a thrown value that is not an Error', () => {
    expect(describeError('boom')).toBe('boom');
    expect(describeError({ code: 14 })).toBe('{"code":14}');
  });

  it('stops at a cause that points back into the chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(describeError(b)).toBe('Error: b <- Error: a');
  });
});
