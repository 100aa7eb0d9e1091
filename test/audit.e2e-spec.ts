/** The audit trail: GET /api/v1/tasks/{id}/actions, read from the task's own history. */
import { TestApi } from './support/api';
import { withApiAndTemporal } from './support/suite';
import { KEYS } from './support/keys';
import { TemporalObserver } from './support/temporal';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A W3C trace id per request, so each action's trace can be told apart. */
const traceId = (n: number): string =>
  `4bf92f3577b34da6a3ce929d0e0e47${String(n).padStart(2, '0')}`;
const requestHeaders = (n: number, requestId: string) => ({
  'X-Request-ID': requestId,
  traceparent: `00-${traceId(n)}-00f067aa0ba902b7-01`,
});

describe('GET /api/v1/tasks/:id/actions', () => {
  let api: TestApi;
  let temporal: TemporalObserver;
  withApiAndTemporal((started, observer) => {
    api = started;
    temporal = observer;
  });

  const actions = (taskId: string, query = '', key: string = KEYS.acmeReader) =>
    api.request('GET', `/api/v1/tasks/${taskId}/actions${query}`, { key });

  it('lists submit, pause, resume and cancel by two keys: who, which key, why, when, which request and trace', async () => {
    const submit = await api.request('POST', '/api/v1/tasks', {
      key: KEYS.acmeWriter,
      headers: requestHeaders(1, 'audit-submit'),
      json: { query: 'Quarterly numbers', context: { steps: 3, step_duration_ms: 2000 } },
    });
    expect(submit.status).toBe(200);
    const taskId = submit.body.task_id as string;
    const act = async (key: string, action: string, n: number, reason: string) => {
      const res = await api.request('POST', `/api/v1/tasks/${taskId}/${action}`, {
        key,
        headers: requestHeaders(n, `audit-${action}`),
        json: { reason },
      });
      expect([action, res.status]).toEqual([action, 202]);
    };
    await act(KEYS.acmeOperator, 'pause', 2, 'legal hold');
    const pausedAt = (await api.request('GET', `/api/v1/tasks/${taskId}/control-state`)).body
      .paused_at as string;
    await act(KEYS.acmeWriter, 'resume', 3, 'cleared by legal');
    await act(KEYS.acmeOperator, 'cancel', 4, 'numbers withdrawn');
    await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');

    const res = await actions(taskId);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      actions: [
        {
          action: 'submit',
          actor: 'alice',
          key_name: 'acme-writer',
          reason: '',
          at: submit.body.created_at,
          request_id: 'audit-submit',
          trace_id: traceId(1),
        },
        {
          action: 'pause',
          actor: 'oscar',
          key_name: 'acme-operator',
          reason: 'legal hold',
          at: pausedAt,
          request_id: 'audit-pause',
          trace_id: traceId(2),
        },
        {
          action: 'resume',
          actor: 'alice',
          key_name: 'acme-writer',
          reason: 'cleared by legal',
          at: expect.stringMatching(RFC3339),
          request_id: 'audit-resume',
          trace_id: traceId(3),
        },
        {
          action: 'cancel',
          actor: 'oscar',
          key_name: 'acme-operator',
          reason: 'numbers withdrawn',
          at: expect.stringMatching(RFC3339),
          request_id: 'audit-cancel',
          trace_id: traceId(4),
        },
      ],
      count: 4,
    });
    const times = (res.body.actions as { at: string }[]).map((a) => Date.parse(a.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    // Pages, oldest first.
    const page = await actions(taskId, '?offset=1&limit=2');
    expect(page.body).toEqual({ actions: res.body.actions.slice(1, 3), count: 2 });
    // Another tenant's task does not exist; bad paging is named.
    expect(await actions(taskId, '', KEYS.globexWriter)).toMatchObject({
      status: 404,
      body: { error: 'Task not found' },
    });
    expect(await actions(taskId, '?limit=0')).toMatchObject({
      status: 400,
      body: { error: 'Invalid limit parameter' },
    });
  });

  it('records a pause deadline that passed as the action of system, with its policy', async () => {
    // A step long enough that the pause surely comes while it runs (a 300 ms one could end,
    // and the task with it, before the pause on a loaded machine: 409).
    const taskId = await api.submit({ steps: 1, step_duration_ms: 3000 });
    await temporal.waitUntilStepRunning(taskId, 1);
    const pause = await api.request('POST', `/api/v1/tasks/${taskId}/pause`, {
      headers: requestHeaders(5, 'audit-deadline'),
      json: { timeout_seconds: 1 },
    });
    expect(pause.status).toBe(202);
    const pausedAt = (await api.request('GET', `/api/v1/tasks/${taskId}/control-state`)).body
      .paused_at as string;
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const res = await actions(taskId);

    expect(res.body.actions.slice(1)).toEqual([
      {
        action: 'pause',
        actor: 'alice',
        key_name: 'acme-writer',
        reason: '',
        at: pausedAt,
        request_id: 'audit-deadline',
        trace_id: traceId(5),
        timeout_seconds: 1,
        on_timeout: 'resume',
      },
      {
        action: 'pause_timeout',
        actor: 'system',
        key_name: '',
        reason: 'pause timed out',
        at: expect.stringMatching(RFC3339),
        request_id: '',
        trace_id: '',
        on_timeout: 'resume',
      },
    ]);
    expect(Date.parse(res.body.actions[2].at)).toBeGreaterThanOrEqual(Date.parse(pausedAt) + 1000);
  });

  it('lists an idempotent submit once, by whoever first made it, however often it is replayed', async () => {
    const key = `audit-once-${Date.now()}`;
    const first = await api.request('POST', '/api/v1/tasks', {
      headers: { 'Idempotency-Key': key },
      json: { query: 'Once', context: { steps: 1, step_duration_ms: 0 } },
    });
    const again = await api.request('POST', '/api/v1/tasks', {
      key: KEYS.acmeOperator,
      headers: { 'Idempotency-Key': key },
      json: { query: 'Once', context: { steps: 1, step_duration_ms: 0 } },
    });
    expect([first.status, again.status, again.body.task_id]).toEqual([
      200,
      200,
      first.body.task_id,
    ]);

    const res = await actions(first.body.task_id);
    expect(res.body.actions).toEqual([
      expect.objectContaining({ action: 'submit', actor: 'alice', key_name: 'acme-writer' }),
    ]);
  });
});
