/**
 * A task whose workflow history holds thousands of events, as an agent task has after hours of
 * work, answers exactly like a fresh one: status, control-state, pause, resume, event replay,
 * and its event history from any offset.
 */
import { readTaskHistory } from '../src/tasks/task-history';
import { expectCountsOfTheFold } from '../src/testing/task-event-counts';
import { TestApi } from './support/api';
import { withApiAndTemporal } from './support/suite';
import { SseStream } from './support/sse';
import { TemporalObserver } from './support/temporal';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('a task with a long history', () => {
  let api: TestApi;
  let temporal: TemporalObserver;
  withApiAndTemporal((started, observer) => {
    api = started;
    temporal = observer;
  });

  it('answers status, control-state, pause, resume and replay from near its end exactly', async () => {
    // One long step: the task stays running while its history grows.
    const taskId = await api.submit({ steps: 2, step_duration_ms: 60_000 });
    await temporal.waitUntilStepRunning(taskId, 1);

    // Grow the history fast with control signals straight to Temporal, as the API would send
    // them: each pause or resume adds a signal, a workflow task and the workflow's records.
    const handle = temporal.client.workflow.getHandle(taskId);
    for (let round = 0; round % 25 !== 0 || (await handle.describe()).historyLength < 3000;) {
      const request = { reason: `round ${round++}`, requested_by: 'load' };
      await handle.signal('pause_v1', request);
      await handle.signal('resume_v1', request);
    }

    const status = await api.request('GET', `/api/v1/tasks/${taskId}`);
    expect(status.status).toBe(200);
    expect(status.body).toEqual({
      task_id: taskId,
      workflow_id: taskId,
      status: 'TASK_STATUS_RUNNING',
      result: '',
      error: '',
      created_at: expect.stringMatching(RFC3339),
      updated_at: expect.stringMatching(RFC3339),
      query: 'Summarize the quarterly report',
      session_id: expect.any(String),
      mode: 'standard',
      context: { steps: 2, step_duration_ms: 60_000 },
    });
    const controlState = () => api.request('GET', `/api/v1/tasks/${taskId}/control-state`);
    expect((await controlState()).body).toMatchObject({ is_paused: false, paused_by: '' });

    const post = (action: string, reason: string) =>
      api.request('POST', `/api/v1/tasks/${taskId}/${action}`, { json: { reason } });
    expect((await post('pause', 'long pause')).status).toBe(202);
    expect((await controlState()).body).toEqual({
      is_paused: true,
      is_cancelled: false,
      paused_at: expect.stringMatching(RFC3339),
      pause_reason: 'long pause',
      paused_by: 'alice',
      cancel_reason: '',
      cancelled_by: '',
      pause_deadline: '',
      on_timeout: '',
    });
    expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');
    expect(await post('pause', 'again')).toMatchObject({
      status: 409,
      body: { error: 'task is already paused' },
    });
    expect((await post('resume', 'go on')).status).toBe(202);
    expect(await post('resume', 'again')).toMatchObject({
      status: 409,
      body: { error: 'task is not paused' },
    });

    // The stream replays exactly what the event history holds after the given id.
    const all = await api.request('GET', `/api/v1/tasks/${taskId}/events?offset=0&limit=200`);
    const count = (await temporal.history(taskId)).length;
    expect(count).toBeGreaterThan(3000);
    const total = await eventCount(api, taskId);
    const tail = (
      await api.request('GET', `/api/v1/tasks/${taskId}/events?offset=${total - 4}&limit=200`)
    ).body.events;
    expect(tail.map((e: { type: string }) => e.type)).toEqual([
      'workflow.pausing',
      'workflow.resumed',
      'workflow.pausing',
      'workflow.resumed',
    ]);
    expect(tail.at(-1)).toMatchObject({ reason: 'go on', requested_by: 'alice', checkpoint: '' });
    const stream = await SseStream.open(`${api.baseUrl}/api/v1/tasks/${taskId}/stream`, {
      'X-API-Key': 'sk_e2e_acme_writer_4f1c',
      'Last-Event-ID': String(tail[0].seq - 1),
    });
    try {
      await stream.waitForEvent((e) => e.id === String(tail[3].seq));
      expect(stream.events).toEqual(tail);
      expect(stream.received.map((e) => e.id)).toEqual(
        tail.map((e: { seq: number }) => String(e.seq)),
      );

      // And goes on live: the cancel arrives, then the end.
      expect((await post('cancel', 'enough')).status).toBe(202);
      await stream.waitForEnd();
      expect(stream.received.slice(4).map((e) => e.event)).toEqual([
        'workflow.cancelling',
        'workflow.cancelled',
        'done',
      ]);
    } finally {
      stream.close();
    }
    expect(all.body.events[0]).toMatchObject({ type: 'WORKFLOW_STARTED', seq: 1 });

    // Every record counted the task events up to it as the fold of the whole history does
    // (signals sent together reach the workflow together), and a page of events from any
    // offset, read from the nearer end of the history, is that slice of the whole list.
    const history = await temporal.history(taskId);
    expect(expectCountsOfTheFold(history)).toBeGreaterThan(500);
    const { runId } = await handle.describe();
    const every = readTaskHistory(taskId, runId, history)!.events;
    expect(all.body.events).toEqual(every.slice(0, 200));
    const length = every.length;
    const middle = Math.floor(length / 2);
    for (const offset of [0, 1, middle - 30, middle, middle + 30, length - 50, length - 1]) {
      const page = await api.request(
        'GET',
        `/api/v1/tasks/${taskId}/events?offset=${offset}&limit=50`,
      );
      const events = every.slice(offset, offset + 50);
      expect(events.length).toBeGreaterThan(0);
      expect([offset, page.status, page.body]).toEqual([
        offset,
        200,
        { events, count: events.length },
      ]);
    }
    for (const past of [length, length + 1, length + 10_000]) {
      const page = await api.request(
        'GET',
        `/api/v1/tasks/${taskId}/events?offset=${past}&limit=50`,
      );
      expect([past, page.status, page.body]).toEqual([past, 200, { events: [], count: 0 }]);
    }
  });
});

/** How many events the task has, by paging the event history. */
async function eventCount(api: TestApi, taskId: string): Promise<number> {
  let total = 0;
  for (;;) {
    const page = await api.request(
      'GET',
      `/api/v1/tasks/${taskId}/events?offset=${total}&limit=200`,
    );
    total += page.body.count;
    if (page.body.count < 200) return total;
  }
}
