/**
 * Every documented answer of POST /api/v1/tasks/{id}/resume (openapi.json, the README's curl
 * session), against a real Temporal dev server and worker.
 */
import { randomUUID } from 'node:crypto';
import { MEMO_TENANT_ID, TASK_WORKFLOW_TYPE } from '../src/workflows/contract';
import { TestApi } from './support/api';
import { withApiAndTemporal } from './support/suite';
import { E2E_TASK_QUEUE } from './support/e2e-env';
import { KEYS } from './support/keys';
import { TemporalObserver } from './support/temporal';

/** Long enough that a test's commands land while the task still runs. */
const LONG = { steps: 3, step_duration_ms: 5000 };

describe('POST /api/v1/tasks/:id/resume', () => {
  let api: TestApi;
  let temporal: TemporalObserver;
  withApiAndTemporal((started, observer) => {
    api = started;
    temporal = observer;
  });

  const resume = (taskId: string, options: Parameters<TestApi['request']>[2] = {}) =>
    api.request('POST', `/api/v1/tasks/${taskId}/resume`, options);

  it('answers 202 for a paused task, which then continues and completes', async () => {
    const taskId = await api.submit({ steps: 2, step_duration_ms: 300 });
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/pause`)).status).toBe(202);

    const res = await resume(taskId, { json: { reason: 'User approved continuation' } });

    expect(res.body).toEqual({ success: true, message: 'Resume signal sent', task_id: taskId });
    expect(res.status).toBe(202);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    const resumed = (await temporal.history(taskId)).find(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'resume_v1',
    );
    expect(resumed).toBeDefined();
  });

  it('answers 404 for an unknown task', async () => {
    const res = await resume(`task_${randomUUID()}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Task not found' });
  });

  it("answers 404 for another tenant's paused task and leaves it paused", async () => {
    const taskId = await api.submit(LONG);
    await api.request('POST', `/api/v1/tasks/${taskId}/pause`);

    const res = await resume(taskId, { key: KEYS.globexWriter });

    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Task not found' });
    expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');
    await api.request('POST', `/api/v1/tasks/${taskId}/cancel`);
  });

  it('answers 409 for a completed task', async () => {
    const taskId = await api.submit({ steps: 1, step_duration_ms: 0 });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const res = await resume(taskId);

    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: 'cannot resume completed task' });
  });

  it('answers 409 for a failed task', async () => {
    const taskId = await api.submit({ steps: 1, step_duration_ms: 0, fail_at_step: 1 });
    await api.waitForStatus(taskId, 'TASK_STATUS_FAILED');

    const res = await resume(taskId);

    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: 'cannot resume failed task' });
  });

  it('answers 409 for a cancelled task', async () => {
    const taskId = await api.submit(LONG);
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/cancel`)).status).toBe(202);
    await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');

    const res = await resume(taskId);

    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: 'cannot resume cancelled task' });
  });

  it('answers 409 for a timed-out task', async () => {
    // The API sets no execution timeout; another client of the same Temporal contract may.
    const taskId = `task_${randomUUID()}`;
    const handle = await temporal.client.workflow.start(TASK_WORKFLOW_TYPE, {
      workflowId: taskId,
      taskQueue: E2E_TASK_QUEUE,
      workflowExecutionTimeout: '1 second',
      memo: { [MEMO_TENANT_ID]: 'acme' },
      args: [
        {
          query: 'times out',
          session_id: 's',
          tenant_id: 'acme',
          user_id: 'alice',
          context: LONG,
        },
      ],
    });
    await api.waitForStatus(handle.workflowId, 'TASK_STATUS_TIMEOUT');

    const res = await resume(taskId);

    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: 'cannot resume timed out task' });
  });

  it('answers 409 for a task that is not paused', async () => {
    const taskId = await api.submit(LONG);

    const res = await resume(taskId);

    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: 'task is not paused' });
    await api.request('POST', `/api/v1/tasks/${taskId}/cancel`);
  });

  it('answers 401 without a key', async () => {
    const res = await resume('task-123', { key: null });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'Unauthorized' });
  });

  it('answers 401 with a wrong key', async () => {
    const res = await resume('task-123', { key: 'sk_wrong' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'Unauthorized' });
  });

  it('answers 401 with an expired key', async () => {
    const res = await resume('task-123', { key: KEYS.acmeExpired });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'Unauthorized' });
  });

  it('answers 403 for a key without tasks:write', async () => {
    const res = await resume('task-123', { key: KEYS.acmeReader });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'Forbidden' });
  });

  it('accepts the key as a bearer token', async () => {
    const taskId = await api.submit(LONG);
    await api.request('POST', `/api/v1/tasks/${taskId}/pause`);

    const res = await resume(taskId, {
      key: null,
      headers: { Authorization: `Bearer ${KEYS.acmeWriter}` },
    });

    expect(res.status).toBe(202);
    expect(res.body).toEqual({ success: true, message: 'Resume signal sent', task_id: taskId });
    await api.request('POST', `/api/v1/tasks/${taskId}/cancel`);
  });
});
