/** Rate limits per API key, in one process and shared by two instances through a real Redis. */
import { TestApi } from './support/api';
import { KEYS } from './support/keys';
import { startRedis } from './support/redis';

const LIMIT = 4;

/** Requests until one is refused; asserts the headers of each answer on the way. */
async function exhaust(apis: TestApi[], key: string): Promise<void> {
  for (let i = 1; i <= LIMIT; i++) {
    const res = await apis[i % apis.length].request('GET', '/api/v1/tasks?limit=1', { key });
    expect([
      res.status,
      res.headers.get('x-ratelimit-limit'),
      res.headers.get('x-ratelimit-remaining'),
    ]).toEqual([200, String(LIMIT), String(LIMIT - i)]);
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    expect(reset * 1000).toBeGreaterThan(Date.now());
    expect(reset * 1000).toBeLessThanOrEqual(Date.now() + 61_000);
  }
  const refused = await apis[0].request('GET', '/api/v1/tasks?limit=1', { key });
  expect(refused.status).toBe(429);
  expect(refused.body).toEqual({ error: 'Rate limit exceeded' });
  expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
  const retryAfter = Number(refused.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe('rate limiting', () => {
  describe('in memory (one instance)', () => {
    let api: TestApi;

    beforeAll(async () => {
      api = await TestApi.start({ env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
    });
    afterAll(async () => {
      await api.close();
    });

    it('counts per key, answers 429 with Retry-After past the limit, and never limits operations', async () => {
      await exhaust([api], KEYS.acmeReader);
      // Another key has its own budget.
      expect(
        (await api.request('GET', '/api/v1/tasks?limit=1', { key: KEYS.globexWriter })).status,
      ).toBe(200);
      for (const path of ['/health', '/readiness', '/openapi.json']) {
        const res = await api.request('GET', path, { key: null });
        expect([path, res.status, res.headers.get('x-ratelimit-limit')]).toEqual([path, 200, null]);
      }
    });
  });

  describe('shared through Redis (two instances)', () => {
    let redis: Awaited<ReturnType<typeof startRedis>>;
    let apis: TestApi[];

    beforeAll(async () => {
      redis = await startRedis();
      const env = { RATE_LIMIT_PER_MINUTE: String(LIMIT), REDIS_URL: redis.url };
      apis = [await TestApi.start({ env }), await TestApi.start({ env })];
    });
    afterAll(async () => {
      await Promise.all(apis.map((a) => a.close()));
      await redis.stop();
    });

    it('spends one budget across both instances', async () => {
      await exhaust(apis, KEYS.acmeWriter);
      const other = await apis[1].request('GET', '/api/v1/tasks?limit=1', { key: KEYS.acmeWriter });
      expect([other.status, other.body]).toEqual([429, { error: 'Rate limit exceeded' }]);
    });

    it('lets requests through, unlimited, while Redis is down', async () => {
      await redis.stop();
      const res = await apis[0].request('GET', '/api/v1/tasks?limit=1', { key: KEYS.acmeReader });
      expect(res.status).toBe(200);
    });
  });
});
