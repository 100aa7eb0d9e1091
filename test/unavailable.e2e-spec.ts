/** An API whose Temporal cannot be reached answers quickly and keeps serving. */
import { TestApi } from './support/api';
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
