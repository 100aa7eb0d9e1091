/**
 * An API whose Temporal cannot be reached, or refuses calls for load, answers quickly with 503
 * and keeps serving.
 */
import { DevServer, startDevServer } from '../src/temporal/dev-server';
import { TestApi } from './support/api';
import { devServerOptions } from './support/dev-server';
import { freePort } from './support/ports';

describe('when Temporal is unreachable', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start({ temporalAddress: `127.0.0.1:${await freePort()}` });
  });
  afterAll(async () => {
    await api.close();
  });

  it('GET /readiness answers 503', async () => {
    const res = await api.request('GET', '/readiness', { key: null });
    expect([res.status, res.body]).toEqual([
      503,
      { status: 'not ready', checks: { temporal: 'failed' } },
    ]);
  });

  it.each([
    ['POST', '/api/v1/tasks', { query: 'q' }],
    ['GET', '/api/v1/tasks/task-123', undefined],
    ['POST', '/api/v1/tasks/task-123/resume', undefined],
  ])('%s %s answers 503 Task service unavailable', async (method, path, json) => {
    const res = await api.request(method, path, { json });
    expect([res.status, res.body]).toEqual([503, { error: 'Task service unavailable' }]);
  });

  it('GET /health still answers 200', async () => {
    const res = await api.request('GET', '/health', { key: null });
    expect([res.status, res.body]).toEqual([200, { status: 'healthy' }]);
  });
});

describe('when Temporal sheds load', () => {
  let server: DevServer;
  let api: TestApi;

  beforeAll(async () => {
    // A visibility rate limit far below what a few list requests need: Temporal answers the
    // calls beyond it RESOURCE_EXHAUSTED, as a cluster on its default limit does under load.
    server = await startDevServer(
      await devServerOptions('throttled', {
        dynamicConfig: { 'frontend.namespaceRPS.visibility': 1 },
      }),
    );
    api = await TestApi.start({ temporalAddress: server.address });
  });
  afterAll(async () => {
    await api?.close();
    await server?.stop();
  });

  it('answers the requests it cannot serve 503 Task service unavailable, never 500', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => api.request('GET', '/api/v1/tasks?limit=5')),
    );

    const refused = answers.filter((res) => res.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    for (const res of refused) {
      expect([res.status, res.body]).toEqual([503, { error: 'Task service unavailable' }]);
    }
    for (const res of answers.filter((r) => r.status === 200)) {
      expect(res.body).toEqual({ tasks: [], total_count: 0, next_cursor: null });
    }
  });
});
