/** Pause, resume and cancel as the workflow sees them: checkpoints, steps, and no worker. */
import { randomUUID } from 'node:crypto';
import { TestApi } from './support/api';
import { withApiAndTemporal } from './support/suite';
import { temporalAddress } from './support/e2e-env';
import { startWorkerProcess } from './support/processes';
import { KEYS } from './support/keys';
import { TemporalObserver, progressRecords, scheduledSteps, signalNames } from './support/temporal';
import { expectEventsAtEveryOffset } from './support/event-offsets';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('pause, resume and cancel', () => {
  let api: TestApi;
  let temporal: TemporalObserver;
  withApiAndTemporal((started, observer) => {
    api = started;
    temporal = observer;
  });

  const post = (taskId: string, action: string, reason?: string) =>
    api.request(
      'POST',
      `/api/v1/tasks/${taskId}/${action}`,
      reason === undefined ? {} : { json: { reason } },
    );

  it('pauses at the next checkpoint after the running step, and resumes there without rerunning a step', async () => {
    const taskId = await api.submit({ steps: 3, step_duration_ms: 1500 });
    await temporal.waitUntilStepRunning(taskId, 1);

    expect((await post(taskId, 'pause', 'waiting for approval')).status).toBe(202);
    // Step 1 was running: it finishes, and the task waits before step 2.
    const waiting = await temporal.waitUntilPausedAt(taskId, 'pre_step_2');
    expect(waiting).toMatchObject({ steps_done: 1, steps_total: 3, waiting: true });
    expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');

    expect((await post(taskId, 'resume', 'approved')).status).toBe(202);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const events = await temporal.history(taskId);
    const steps = scheduledSteps(events);
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3]);
    // Nothing was scheduled between the workflow starting to wait and the resume signal.
    const waitStarted = progressRecords(events).find((r) => r.progress.waiting)!.eventId;
    const resumedAt = Number(
      events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'resume_v1')!
        .eventId,
    );
    expect(waitStarted).toBeLessThan(resumedAt);
    expect(steps.filter((s) => s.eventId > waitStarted && s.eventId < resumedAt)).toEqual([]);
    expect(steps[1].eventId).toBeGreaterThan(resumedAt);
    expect(signalNames(events)).toEqual(['pause_v1', 'resume_v1']);
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it('reports who paused, when and why in the control state, and clears it on resume', async () => {
    const taskId = await api.submit({ steps: 3, step_duration_ms: 5000 });
    const before = Date.now();
    await post(taskId, 'pause', 'hold for review');

    const paused = await api.request('GET', `/api/v1/tasks/${taskId}/control-state`);
    expect(paused.status).toBe(200);
    expect(paused.body).toEqual({
      is_paused: true,
      is_cancelled: false,
      paused_at: expect.stringMatching(RFC3339),
      pause_reason: 'hold for review',
      paused_by: 'alice',
      cancel_reason: '',
      cancelled_by: '',
      pause_deadline: '',
      on_timeout: '',
    });
    expect(Date.parse(paused.body.paused_at)).toBeGreaterThanOrEqual(before - 1000);

    await post(taskId, 'resume');
    const resumed = await api.request('GET', `/api/v1/tasks/${taskId}/control-state`, {
      key: KEYS.acmeReader,
    });
    expect(resumed.body).toEqual({
      is_paused: false,
      is_cancelled: false,
      paused_at: '',
      pause_reason: '',
      paused_by: '',
      cancel_reason: '',
      cancelled_by: '',
      pause_deadline: '',
      on_timeout: '',
    });
    await post(taskId, 'cancel');
  });

  it('answers 409 to a second pause', async () => {
    const taskId = await api.submit({ steps: 3, step_duration_ms: 5000 });
    expect((await post(taskId, 'pause')).status).toBe(202);

    const again = await post(taskId, 'pause');

    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: 'task is already paused' });
    await post(taskId, 'cancel');
  });

  it('answers 409 to pause once the task has closed', async () => {
    const taskId = await api.submit({ steps: 1, step_duration_ms: 0 });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const res = await post(taskId, 'pause');

    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: 'cannot pause completed task' });
  });

  it('cancels a paused task: it ends CANCELLED without running another step', async () => {
    const taskId = await api.submit({ steps: 3, step_duration_ms: 1000 });
    await temporal.waitUntilStepRunning(taskId, 1);
    await post(taskId, 'pause');
    await temporal.waitUntilPausedAt(taskId, 'pre_step_2');

    const res = await post(taskId, 'cancel', 'no longer needed');

    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      success: true,
      message: 'Task cancelled successfully',
      task_id: taskId,
    });
    await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
    const events = await temporal.history(taskId);
    expect(scheduledSteps(events).map((s) => s.step)).toEqual([1]);
    expect(events.at(-1)?.workflowExecutionCanceledEventAttributes).toBeDefined();
    expect(progressRecords(events).at(-1)?.progress).toMatchObject({
      cancelled: true,
      waiting: true,
    });

    const control = await api.request('GET', `/api/v1/tasks/${taskId}/control-state`);
    expect(control.body).toEqual({
      is_paused: false,
      is_cancelled: true,
      paused_at: '',
      pause_reason: '',
      paused_by: '',
      cancel_reason: 'no longer needed',
      cancelled_by: 'alice',
      pause_deadline: '',
      on_timeout: '',
    });
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it('answers 409 with the terminal state to cancel of a closed task', async () => {
    const completed = await api.submit({ steps: 1, step_duration_ms: 0 });
    const failed = await api.submit({ steps: 1, step_duration_ms: 0, fail_at_step: 1 });
    await api.waitForStatus(completed, 'TASK_STATUS_COMPLETED');
    await api.waitForStatus(failed, 'TASK_STATUS_FAILED');

    const res = await post(completed, 'cancel');
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      success: false,
      message: 'Task is already in terminal state: COMPLETED',
      status: 'COMPLETED',
    });
    const res2 = await post(failed, 'cancel');
    expect(res2.status).toBe(409);
    expect(res2.body).toEqual({
      success: false,
      message: 'Task is already in terminal state: FAILED',
      status: 'FAILED',
    });
  });
});

describe('control with no worker running', () => {
  // Its own task queue, on which no worker polls until the test starts one.
  const taskQueue = `no-worker-${randomUUID()}`;
  let api: TestApi;
  let temporal: TemporalObserver;

  beforeAll(async () => {
    api = await TestApi.start({ taskQueue });
    temporal = await TemporalObserver.connect();
  });
  afterAll(async () => {
    await api.close();
    await temporal.close();
  });

  it('honours pause immediately followed by resume, and the task completes once a worker runs', async () => {
    const taskId = await api.submit({ steps: 2, step_duration_ms: 0 });
    expect(await api.status(taskId)).toBe('TASK_STATUS_QUEUED');

    const pause = await api.request('POST', `/api/v1/tasks/${taskId}/pause`);
    const resume = await api.request('POST', `/api/v1/tasks/${taskId}/resume`);

    expect([pause.status, resume.status]).toEqual([202, 202]);
    expect(resume.body).toEqual({ success: true, message: 'Resume signal sent', task_id: taskId });
    expect((await api.request('GET', `/api/v1/tasks/${taskId}/control-state`)).body).toMatchObject({
      is_paused: false,
    });
    expect(await api.status(taskId)).toBe('TASK_STATUS_QUEUED');

    const worker = startWorkerProcess({ address: temporalAddress(), taskQueue });
    try {
      await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    } finally {
      await worker.stop();
    }
    const events = await temporal.history(taskId);
    expect(signalNames(events)).toEqual(['pause_v1', 'resume_v1']);
    expect(scheduledSteps(events).map((s) => s.step)).toEqual([1, 2]);
    // Both signals came in the first workflow task: each record follows both in history.
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it('applies pause, resume, pause sent before any worker in the order they were sent', async () => {
    const taskId = await api.submit({ steps: 1, step_duration_ms: 0 });
    for (const action of ['pause', 'resume', 'pause']) {
      expect((await api.request('POST', `/api/v1/tasks/${taskId}/${action}`)).status).toBe(202);
    }
    expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');

    const worker = startWorkerProcess({ address: temporalAddress(), taskQueue });
    try {
      // The workflow agrees with the API: it waits at its first checkpoint.
      await temporal.waitUntilPausedAt(taskId, 'pre_planning');
      expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');
      expect((await api.request('POST', `/api/v1/tasks/${taskId}/resume`)).status).toBe(202);
      await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    } finally {
      await worker.stop();
    }
    // The records made handling the signals, before the first checkpoint, pass none.
    const { body } = await api.request('GET', `/api/v1/tasks/${taskId}/events?limit=200`);
    expect(body.events.map((e: { type: string; message: string }) => e.message)).toEqual([
      'Task started',
      'Pausing',
      'Resuming',
      'Pausing',
      'Checkpoint pre_planning',
      'Paused',
      'Resuming',
      'Checkpoint pre_step_1',
      'Step 1 of 1 completed',
      'Checkpoint pre_synthesis',
      'Checkpoint pre_completion',
      'Task completed',
    ]);
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it('shows a pause at once as PAUSED, and accepts cancel again while the task is closing', async () => {
    const taskId = await api.submit({ steps: 2, step_duration_ms: 0 });
    await api.request('POST', `/api/v1/tasks/${taskId}/pause`);
    expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');

    const first = await api.request('POST', `/api/v1/tasks/${taskId}/cancel`);
    const second = await api.request('POST', `/api/v1/tasks/${taskId}/cancel`);

    const accepted = { success: true, message: 'Task cancelled successfully', task_id: taskId };
    expect([first.status, first.body]).toEqual([202, accepted]);
    expect([second.status, second.body]).toEqual([202, accepted]);
    const resume = await api.request('POST', `/api/v1/tasks/${taskId}/resume`);
    expect([resume.status, resume.body]).toEqual([409, { error: 'cannot resume cancelled task' }]);

    const worker = startWorkerProcess({ address: temporalAddress(), taskQueue });
    try {
      await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
    } finally {
      await worker.stop();
    }
    const events = await temporal.history(taskId);
    expect(signalNames(events)).toEqual(['pause_v1', 'cancel_v1']);
    expect(scheduledSteps(events)).toEqual([]);
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it("reads on one instance show another instance's pause and resume at once", async () => {
    const other = await TestApi.start({ taskQueue });
    try {
      const taskId = await api.submit({ steps: 1, step_duration_ms: 0 });
      const controlState = async () =>
        (await api.request('GET', `/api/v1/tasks/${taskId}/control-state`)).body;
      // Read twice: the second read is answered from what the first one folded.
      for (let i = 0; i < 2; i++) {
        expect(await api.status(taskId)).toBe('TASK_STATUS_QUEUED');
        expect(await controlState()).toMatchObject({ is_paused: false });
      }

      const pause = await other.request('POST', `/api/v1/tasks/${taskId}/pause`, {
        json: { reason: 'audit' },
      });
      expect(pause.status).toBe(202);
      expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');
      expect(await controlState()).toEqual({
        is_paused: true,
        is_cancelled: false,
        paused_at: expect.stringMatching(RFC3339),
        pause_reason: 'audit',
        paused_by: 'alice',
        cancel_reason: '',
        cancelled_by: '',
        pause_deadline: '',
        on_timeout: '',
      });

      expect((await other.request('POST', `/api/v1/tasks/${taskId}/resume`)).status).toBe(202);
      expect(await api.status(taskId)).toBe('TASK_STATUS_QUEUED');
      expect(await controlState()).toMatchObject({ is_paused: false, pause_reason: '' });
    } finally {
      await other.close();
    }
  });
});
