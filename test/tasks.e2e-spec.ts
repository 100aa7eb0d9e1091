/** Submit, status, tenancy, idempotency and bad input over HTTP. */
import { randomUUID } from 'node:crypto';
import { TestApi } from './support/api';
import { KEYS } from './support/keys';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const TASK_ID = /^task_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('task API', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api.close();
  });

  describe('POST /api/v1/tasks', () => {
    it('answers 200 with the queued task and its workflow and session headers', async () => {
      const res = await api.request('POST', '/api/v1/tasks', {
        json: {
          query: 'Summarize the report',
          session_id: 'session-42',
          context: { steps: 1, step_duration_ms: 0 },
          unknown_field: 1,
        },
      });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        task_id: expect.stringMatching(TASK_ID),
        status: 'TASK_STATUS_QUEUED',
        message: 'Task submitted successfully',
        created_at: expect.stringMatching(RFC3339),
      });
      expect(res.headers.get('x-workflow-id')).toBe(res.body.task_id);
      expect(res.headers.get('x-session-id')).toBe('session-42');
      // The time Temporal started the task, as the status answers it, not the API's clock.
      const status = await api.request('GET', `/api/v1/tasks/${res.body.task_id}`);
      expect(status.body.created_at).toBe(res.body.created_at);
    });

    it('generates a session ID when none is given', async () => {
      const res = await api.request('POST', '/api/v1/tasks', {
        json: { query: 'q', context: { steps: 1, step_duration_ms: 0 } },
      });
      expect(res.headers.get('x-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it.each([
      [{}, 'Query is required'],
      [{ query: '   ' }, 'Query is required'],
      [{ query: null }, 'Query is required'],
      [{ query: 42 }, 'query must be a string'],
      [{ query: 'x'.repeat(20_001) }, 'query must be at most 20000 characters'],
      [{ query: 'q', session_id: 'has space' }, 'Invalid session_id format'],
      [{ query: 'q', mode: 'fast' }, 'mode must be one of simple, standard, complex, supervisor'],
      [{ query: 'q', model_tier: 'huge' }, 'model_tier must be one of small, medium, large'],
      [{ query: 'q', context: [1] }, 'context must be a JSON object'],
      [
        { query: 'q', context: { blob: 'x'.repeat(70_000) } },
        'context must be at most 64 KiB as JSON',
      ],
      [{ query: 'q', context: { steps: 0 } }, 'context.steps must be an integer between 1 and 50'],
      [
        { query: 'q', context: { step_duration_ms: 'slow' } },
        'context.step_duration_ms must be an integer between 0 and 60000',
      ],
    ])('answers 400 for %j', async (body, message) => {
      const res = await api.request('POST', '/api/v1/tasks', { json: body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: message });
    });

    it('answers 400 naming the problem for malformed JSON', async () => {
      const res = await api.request('POST', '/api/v1/tasks', {
        raw: '{"query": ',
        headers: { 'Content-Type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: expect.stringMatching(/^Invalid request body: .*JSON/) });
    });

    it('answers 400 for a body that is not an object', async () => {
      const res = await api.request('POST', '/api/v1/tasks', { json: ['query'] });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'Invalid request body: expected a JSON object' });
    });

    it('answers 413 for a body over 1 MiB, and keeps serving', async () => {
      const res = await api.request('POST', '/api/v1/tasks', {
        raw: JSON.stringify({ query: 'x'.repeat(2 * 1024 * 1024) }),
        headers: { 'Content-Type': 'application/json' },
      });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: 'Request body too large: the limit is 1 MiB' });
      expect((await api.request('GET', '/health')).status).toBe(200);
    });

    it('answers 403 for a key without tasks:write', async () => {
      const res = await api.request('POST', '/api/v1/tasks', {
        key: KEYS.acmeReader,
        json: { query: 'q' },
      });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: 'Forbidden' });
    });
  });

  describe('Idempotency-Key', () => {
    const submit = (key: string, query: string) =>
      api.request('POST', '/api/v1/tasks', {
        headers: { 'Idempotency-Key': key },
        json: { query, context: { steps: 1, step_duration_ms: 0 } },
      });

    it('gives 20 concurrent identical submits one task', async () => {
      const key = randomUUID();
      const responses = await Promise.all(Array.from({ length: 20 }, () => submit(key, 'once')));

      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(new Set(responses.map((r) => r.body.task_id)).size).toBe(1);
      expect(new Set(responses.map((r) => r.headers.get('x-session-id'))).size).toBe(1);
    });

    it('answers 422 when the key was used with a different body', async () => {
      const key = randomUUID();
      expect((await submit(key, 'first')).status).toBe(200);

      const res = await submit(key, 'second');

      expect(res.status).toBe(422);
      expect(res.body).toEqual({
        error: 'Idempotency-Key was already used with a different request',
      });
    });

    it('keeps tenants apart: the same key from another tenant is another task', async () => {
      const key = randomUUID();
      const acme = await submit(key, 'same');
      const globex = await api.request('POST', '/api/v1/tasks', {
        key: KEYS.globexWriter,
        headers: { 'Idempotency-Key': key },
        json: { query: 'same', context: { steps: 1, step_duration_ms: 0 } },
      });
      expect(globex.status).toBe(200);
      expect(globex.body.task_id).not.toBe(acme.body.task_id);
    });
  });

  describe('GET /api/v1/tasks/:id', () => {
    it('reports a completed task with its result and real timestamps', async () => {
      const before = Date.now();
      const taskId = await api.submit({ steps: 2, step_duration_ms: 0 });
      await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

      const res = await api.request('GET', `/api/v1/tasks/${taskId}`, { key: KEYS.acmeReader });

      expect(res.status).toBe(200);
      expect(res.headers.get('x-workflow-id')).toBe(taskId);
      expect(res.body).toEqual({
        task_id: taskId,
        workflow_id: taskId,
        status: 'TASK_STATUS_COMPLETED',
        result:
          'Simulated result for "Summarize the quarterly report": 2 steps completed. ' +
          'Produced by the simulated executor; no model was called.',
        error: '',
        created_at: expect.stringMatching(RFC3339),
        updated_at: expect.stringMatching(RFC3339),
        completed_at: expect.stringMatching(RFC3339),
        query: 'Summarize the quarterly report',
        session_id: expect.any(String),
        mode: 'standard',
        context: { steps: 2, step_duration_ms: 0 },
      });
      const created = Date.parse(res.body.created_at);
      expect(created).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(res.body.completed_at)).toBeGreaterThanOrEqual(created);
      expect(res.body.updated_at).toBe(res.body.completed_at);
    });

    it('reports a failed task with its failure message', async () => {
      const taskId = await api.submit({ steps: 2, step_duration_ms: 0, fail_at_step: 2 });
      await api.waitForStatus(taskId, 'TASK_STATUS_FAILED');

      const res = await api.request('GET', `/api/v1/tasks/${taskId}`);

      expect(res.body).toMatchObject({
        status: 'TASK_STATUS_FAILED',
        result: '',
        error: 'Simulated failure at step 2 of 2',
        completed_at: expect.stringMatching(RFC3339),
      });
    });

    it('has no completed_at while the task runs', async () => {
      const taskId = await api.submit({ steps: 2, step_duration_ms: 5000 });
      const res = await api.request('GET', `/api/v1/tasks/${taskId}`);
      expect(res.body).not.toHaveProperty('completed_at');
      expect(['TASK_STATUS_QUEUED', 'TASK_STATUS_RUNNING']).toContain(res.body.status);
      await api.request('POST', `/api/v1/tasks/${taskId}/cancel`);
    });
  });

  describe("another tenant's task", () => {
    it.each([
      ['GET', ''],
      ['GET', '/control-state'],
      ['POST', '/pause'],
      ['POST', '/resume'],
      ['POST', '/cancel'],
    ])(
      'answers 404 to %s /api/v1/tasks/:id%s and leaves the task alone',
      async (method, suffix) => {
        const taskId = await api.submit({ steps: 2, step_duration_ms: 5000 });

        const res = await api.request(method, `/api/v1/tasks/${taskId}${suffix}`, {
          key: KEYS.globexWriter,
        });

        expect(res.status).toBe(404);
        expect(res.body).toEqual({ error: 'Task not found' });
        const control = await api.request('GET', `/api/v1/tasks/${taskId}/control-state`);
        expect(control.body).toMatchObject({ is_paused: false, is_cancelled: false });
        await api.request('POST', `/api/v1/tasks/${taskId}/cancel`);
      },
    );
  });

  describe('task IDs', () => {
    it.each([
      ['an encoded slash', 'a%2Fb'],
      ['300 characters', 'a'.repeat(300)],
      ['a space', 'a%20b'],
    ])('answers 400 for an ID with %s on every route', async (_, id) => {
      for (const [method, suffix] of [
        ['GET', ''],
        ['GET', '/control-state'],
        ['POST', '/pause'],
        ['POST', '/resume'],
        ['POST', '/cancel'],
      ]) {
        const res = await api.request(method, `/api/v1/tasks/${id}${suffix}`);
        expect([method, suffix, res.status, res.body]).toEqual([
          method,
          suffix,
          400,
          { error: 'Invalid task ID format' },
        ]);
      }
    });

    it('answers 404 for a path with a raw slash, which names no route', async () => {
      const res = await api.request('POST', '/api/v1/tasks/a/b/pause');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: 'Route not found' });
    });
  });

  describe('control bodies', () => {
    it.each([
      [{ reason: 5 }, 'reason must be a string'],
      [{ reason: 'x'.repeat(1001) }, 'reason must be at most 1000 characters'],
    ])('answers 400 for %j', async (body, message) => {
      const res = await api.request('POST', `/api/v1/tasks/task-123/pause`, { json: body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: message });
    });
  });

  describe('methods', () => {
    it('answers 405 with Allow for a method a known path does not take', async () => {
      const res = await api.request('DELETE', '/api/v1/tasks/task-123');
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET');
      expect(res.body).toEqual({ error: 'Method DELETE not allowed; use GET' });
      const patch = await api.request('PATCH', '/health', { key: null });
      expect([patch.status, patch.headers.get('allow')]).toEqual([405, 'GET']);
    });
  });

  describe('operations', () => {
    it('GET /health answers without a key', async () => {
      const res = await api.request('GET', '/health', { key: null });
      expect([res.status, res.body]).toEqual([200, { status: 'healthy' }]);
    });

    it('GET /readiness reports Temporal reachable', async () => {
      const res = await api.request('GET', '/readiness', { key: null });
      expect([res.status, res.body]).toEqual([
        200,
        { status: 'ready', checks: { temporal: 'ok' } },
      ]);
    });
  });
});
