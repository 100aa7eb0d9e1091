import { modelServerRetryDelayMs, retryAfterMs } from './call-failures';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delay-seconds and HTTP dates', () => {
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(' 1.5 ', now)).toBe(1500);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('ignores what is absent, unreadable or longer than an hour', () => {
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('7200', now)).toBeUndefined();
  });
});

describe('modelServerRetryDelayMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const headers = (values: Record<string, string>) => new Headers(values);

  it('prefers retry-after-ms, the finer of the two headers, and falls back to Retry-After', () => {
    expect(modelServerRetryDelayMs(headers({ 'retry-after-ms': '2500' }), now)).toBe(2500);
    expect(
      modelServerRetryDelayMs(headers({ 'retry-after-ms': '1500.2', 'retry-after': '1' }), now),
    ).toBe(1501);
    expect(modelServerRetryDelayMs(headers({ 'retry-after': '2' }), now)).toBe(2000);
  });

  it('ignores a retry-after-ms that is unreadable, negative or longer than an hour', () => {
    for (const value of ['soon', '-5', '', '1e9', String(2 * 60 * 60 * 1000)]) {
      expect(modelServerRetryDelayMs(headers({ 'retry-after-ms': value }), now)).toBeUndefined();
      expect(
        modelServerRetryDelayMs(headers({ 'retry-after-ms': value, 'retry-after': '3' }), now),
      ).toBe(3000);
    }
    expect(modelServerRetryDelayMs(headers({}), now)).toBeUndefined();
    expect(modelServerRetryDelayMs(undefined, now)).toBeUndefined();
  });
});
