/** Live task events over SSE with exact replay, the event history, and task listing. */
import { randomUUID } from 'node:crypto';
import { TestApi } from './support/api';
import { KEYS } from './support/keys';
import { SseStream } from './support/sse';
import { waitFor } from './support/wait';

const CONTROL_TYPES = [
  'WORKFLOW_STARTED',
  'workflow.pausing',
  'workflow.paused',
  'workflow.resumed',
  'WORKFLOW_COMPLETED',
];

describe('task events', () => {
  let api: TestApi;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
  });
  afterAll(async () => {
    await api.close();
  });

  const open = async (path: string, headers: Record<string, string> = {}, on: TestApi = api) => {
    const stream = await SseStream.open(`${on.baseUrl}${path}`, {
      'X-API-Key': KEYS.acmeWriter,
      ...headers,
    });
    streams.push(stream);
    return stream;
  };
  const post = (taskId: string, action: string, json?: unknown) =>
    api.request('POST', `/api/v1/tasks/${taskId}/${action}`, json === undefined ? {} : { json });
  const history = async (taskId: string) =>
    (await api.request('GET', `/api/v1/tasks/${taskId}/events?limit=200`)).body.events as any[];

  describe('GET /api/v1/stream/sse', () => {
    it('sends a subscriber from the start every event in order, then done', async () => {
      const taskId = await api.submit({ steps: 2, step_duration_ms: 500 });
      const stream = await open(`/api/v1/stream/sse?workflow_id=${taskId}`);
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);

      await stream.waitForEvent((e) => e.data.includes('"checkpoint":"pre_step_1"'));
      await post(taskId, 'pause', { reason: 'check' });
      await stream.waitForEvent((e) => e.event === 'workflow.paused');
      await post(taskId, 'resume', { reason: 'ok' });
      await stream.waitForEnd();

      const events = stream.events;
      expect(events.filter((e) => CONTROL_TYPES.includes(e.type)).map((e) => e.type)).toEqual(
        CONTROL_TYPES,
      );
      expect(stream.received.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
      const ids = stream.received.filter((e) => e.event !== 'done').map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids[0]).toBeGreaterThan(0);
      for (const e of stream.received.filter((r) => r.event !== 'done')) {
        expect(JSON.parse(e.data)).toMatchObject({
          type: e.event,
          seq: Number(e.id),
          workflow_id: taskId,
        });
      }
      expect(events.find((e) => e.type === 'workflow.pausing')).toMatchObject({
        message: 'Pausing: check',
        reason: 'check',
        requested_by: 'alice',
      });
      expect(events.find((e) => e.type === 'workflow.paused')).toMatchObject({
        message: 'Paused',
        checkpoint: 'pre_step_2',
      });
      expect(events.find((e) => e.type === 'workflow.resumed')).toMatchObject({
        message: 'Resuming: ok',
        reason: 'ok',
        requested_by: 'alice',
        checkpoint: 'pre_step_2',
      });
      expect(events.at(-1)).toMatchObject({
        type: 'WORKFLOW_COMPLETED',
        result: expect.stringContaining('2 steps completed'),
      });
      // The event history holds the same objects.
      expect(await history(taskId)).toEqual(events);
    });

    it('replays exactly the events after Last-Event-ID, across a restart of the API', async () => {
      const taskId = await api.submit({ steps: 2, step_duration_ms: 500 });
      const first = await open(`/api/v1/stream/sse?workflow_id=${taskId}`);
      await post(taskId, 'pause');
      const paused = await first.waitForEvent((e) => e.event === 'workflow.paused');
      first.close();

      const restarted = await TestApi.start();
      try {
        const second = await open(
          `/api/v1/stream/sse?workflow_id=${taskId}`,
          { 'Last-Event-ID': paused.id! },
          restarted,
        );
        await post(taskId, 'resume');
        await second.waitForEnd();

        const all = await history(taskId);
        expect(second.events).toEqual(all.filter((e) => e.seq > Number(paused.id)));
        expect(second.events.map((e) => e.type)).toContain('workflow.resumed');
        const seen = [...first.events.filter((e) => e.seq <= Number(paused.id)), ...second.events];
        expect(seen).toEqual(all);
      } finally {
        await restarted.close();
      }
    });

    it('honours last_event_id in the query and the types filter', async () => {
      const taskId = await api.submit({ steps: 1, step_duration_ms: 0 });
      await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
      const all = await history(taskId);

      const stream = await open(
        `/api/v1/tasks/${taskId}/stream?last_event_id=${all[0].seq}&types=PROGRESS,WORKFLOW_COMPLETED`,
      );
      await stream.waitForEnd();

      expect(stream.events).toEqual(
        all.filter(
          (e) => e.seq > all[0].seq && ['PROGRESS', 'WORKFLOW_COMPLETED'].includes(e.type),
        ),
      );
      expect(stream.received.at(-1)?.event).toBe('done');
    });

    it('reports a task cancelled while paused with workflow.cancelled, was_paused true, then done', async () => {
      const taskId = await api.submit({ steps: 3, step_duration_ms: 500 });
      const stream = await open(`/api/v1/tasks/${taskId}/stream`);
      await post(taskId, 'pause');
      await stream.waitForEvent((e) => e.event === 'workflow.paused');
      await post(taskId, 'cancel', { reason: 'enough' });
      await stream.waitForEnd();

      const types = stream.events.map((e) => e.type);
      expect(types.slice(-2)).toEqual(['workflow.cancelling', 'workflow.cancelled']);
      expect(stream.events.at(-2)).toMatchObject({
        message: 'Cancelling: enough',
        reason: 'enough',
        requested_by: 'alice',
      });
      expect(stream.events.at(-1)).toMatchObject({
        message: 'Cancelled',
        was_paused: true,
        checkpoint: expect.stringMatching(/^pre_/),
      });
      expect(stream.received.at(-1)?.event).toBe('done');
    });

    it('records workflow.cancelled for a task cancelled before any step ran', async () => {
      const taskId = await api.submit({ steps: 3, step_duration_ms: 500 });
      await post(taskId, 'cancel');
      await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
      const events = await history(taskId);
      expect(events.at(-1)).toMatchObject({ type: 'workflow.cancelled', was_paused: false });
    });

    it.each([
      ['/api/v1/stream/sse', 400, { error: 'workflow_id is required' }],
      ['/api/v1/stream/sse?workflow_id=a%20b', 400, { error: 'Invalid task ID format' }],
      [
        '/api/v1/stream/sse?workflow_id=task-x&types=bogus',
        400,
        { error: 'Invalid types parameter: unknown event type "bogus"' },
      ],
      [
        '/api/v1/stream/sse?workflow_id=task-x&last_event_id=-1',
        400,
        { error: 'Invalid last_event_id parameter' },
      ],
      [`/api/v1/stream/sse?workflow_id=task_${randomUUID()}`, 404, { error: 'Task not found' }],
    ])('answers %s with a JSON %i before any stream byte', async (path, status, body) => {
      const stream = await open(path);
      expect(stream.status).toBe(status);
      expect(stream.headers.get('content-type')).toMatch(/^application\/json/);
      expect(stream.errorBody).toEqual(body);
    });

    it('accepts the key as ?api_key= (EventSource cannot set headers), and requires one', async () => {
      const taskId = await api.submit({ steps: 1, step_duration_ms: 0 });
      const unauthenticated = await SseStream.open(
        `${api.baseUrl}/api/v1/stream/sse?workflow_id=${taskId}`,
      );
      expect([unauthenticated.status, unauthenticated.errorBody]).toEqual([
        401,
        { error: 'Unauthorized' },
      ]);

      const stream = await SseStream.open(
        `${api.baseUrl}/api/v1/stream/sse?workflow_id=${taskId}&api_key=${KEYS.acmeReader}`,
      );
      streams.push(stream);
      expect(stream.status).toBe(200);
      await stream.waitForEnd();
      expect(stream.events[0]).toMatchObject({ type: 'WORKFLOW_STARTED', seq: 1 });
    });
  });

  describe('POST /api/v1/tasks/stream', () => {
    it('answers 201 with the stream URL, which still delivers every event from the first', async () => {
      const res = await api.request('POST', '/api/v1/tasks/stream', {
        json: { query: 'stream me', context: { steps: 1, step_duration_ms: 0 } },
      });
      expect(res.status).toBe(201);
      const taskId = res.body.task_id;
      const url = `/api/v1/stream/sse?workflow_id=${taskId}`;
      expect(res.body).toEqual({ task_id: taskId, workflow_id: taskId, stream_url: url });
      expect(res.headers.get('x-workflow-id')).toBe(taskId);
      expect(res.headers.get('x-session-id')).toBeTruthy();
      expect(res.headers.get('link')).toBe(`<${url}>; rel=stream`);

      await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
      const stream = await open(url);
      await stream.waitForEnd();
      expect(stream.events.map((e) => e.type)).toEqual([
        'WORKFLOW_STARTED',
        ...Array(5).fill('PROGRESS'),
        'WORKFLOW_COMPLETED',
      ]);
    });
  });

  describe('GET /api/v1/tasks/:id/events', () => {
    it('pages through the history oldest first', async () => {
      const taskId = await api.submit({ steps: 2, step_duration_ms: 0 });
      await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
      const all = await history(taskId);
      expect(all.length).toBeGreaterThan(4);

      const page = await api.request('GET', `/api/v1/tasks/${taskId}/events?limit=2&offset=1`);

      expect(page.status).toBe(200);
      expect(page.body).toEqual({ events: all.slice(1, 3), count: 2 });
      const defaults = await api.request('GET', `/api/v1/tasks/${taskId}/events`);
      expect(defaults.body).toEqual({ events: all.slice(0, 50), count: all.length });
    });

    it.each([
      ['limit=0', 'Invalid limit parameter'],
      ['limit=201', 'Invalid limit parameter'],
      ['limit=abc', 'Invalid limit parameter'],
      ['offset=-1', 'Invalid offset parameter'],
    ])('answers 400 for %s', async (query, message) => {
      const res = await api.request('GET', `/api/v1/tasks/task-123/events?${query}`);
      expect([res.status, res.body]).toEqual([400, { error: message }]);
    });

    it("answers 404 for another tenant's task", async () => {
      const taskId = await api.submit({ steps: 1, step_duration_ms: 0 });
      const res = await api.request('GET', `/api/v1/tasks/${taskId}/events`, {
        key: KEYS.globexWriter,
      });
      expect([res.status, res.body]).toEqual([404, { error: 'Task not found' }]);
      const stream = await open(`/api/v1/tasks/${taskId}/stream`, {
        'X-API-Key': KEYS.globexWriter,
      });
      expect([stream.status, stream.errorBody]).toEqual([404, { error: 'Task not found' }]);
    });
  });

  describe('GET /api/v1/tasks', () => {
    it('lists only the tenant’s tasks, newest first, with filters and pagination', async () => {
      const session = `list-${randomUUID()}`;
      const submit = (key: string) =>
        api.request('POST', '/api/v1/tasks', {
          key,
          json: {
            query: `q-${key.slice(-4)}`,
            session_id: session,
            context: { steps: 1, step_duration_ms: 0 },
          },
        });
      const acme: string[] = [];
      for (let i = 0; i < 3; i++) acme.push((await submit(KEYS.acmeWriter)).body.task_id);
      const globex = (await submit(KEYS.globexWriter)).body.task_id;
      for (const id of acme) await api.waitForStatus(id, 'TASK_STATUS_COMPLETED');

      const list = (query: string, key: string = KEYS.acmeReader) =>
        api.request('GET', `/api/v1/tasks?session_id=${session}&${query}`, { key });
      // Visibility is eventually consistent: wait until it has caught up, in the count and in
      // the page alike (two queries, which may see it a moment apart).
      const all = await waitFor('the list to show three completed tasks', async () => {
        const res = await list('status=completed');
        return res.body.total_count === 3 && res.body.tasks?.length === 3 ? res : undefined;
      });
      expect(all.status).toBe(200);
      expect(all.body.tasks.map((t: any) => t.task_id)).toEqual([...acme].reverse());
      expect(all.body.tasks[0]).toEqual({
        task_id: acme[2],
        query: `q-${KEYS.acmeWriter.slice(-4)}`,
        status: 'TASK_STATUS_COMPLETED',
        mode: 'standard',
        created_at: expect.any(String),
        completed_at: expect.any(String),
      });

      const page = await list('limit=2&offset=1');
      expect(page.body).toEqual({
        tasks: all.body.tasks.slice(1, 3),
        total_count: 3,
        next_cursor: null,
      });
      expect((await list('status=TASK_STATUS_RUNNING')).body).toEqual({
        tasks: [],
        total_count: 0,
        next_cursor: null,
      });
      expect((await list('status=Completed')).body.total_count).toBe(3);

      const other = await waitFor('globex to see its task', async () => {
        const res = await list('', KEYS.globexWriter);
        return res.body.total_count === 1 && res.body.tasks?.length === 1 ? res : undefined;
      });
      expect(other.body.tasks.map((t: any) => t.task_id)).toEqual([globex]);
    });

    it.each([
      ['limit=0', 'Invalid limit parameter'],
      ['limit=101', 'Invalid limit parameter'],
      ['offset=x', 'Invalid offset parameter'],
      ['status=sleeping', 'Invalid status value'],
      ['session_id=a%20b', 'Invalid session_id format'],
    ])('answers 400 for %s', async (query, message) => {
      const res = await api.request('GET', `/api/v1/tasks?${query}`);
      expect([res.status, res.body]).toEqual([400, { error: message }]);
    });
  });
});
