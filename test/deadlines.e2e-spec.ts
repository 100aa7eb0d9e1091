/**
 * Pause with a deadline: each policy's end state, events and control-state; a resume before the
 * deadline clears it; and the deadline fires after the worker was killed and restarted, with no
 * API running at that moment.
 */
import { randomUUID } from 'node:crypto';
import { TestApi } from './support/api';
import { withApiAndTemporal } from './support/suite';
import { MEMO_TENANT_ID, TASK_WORKFLOW_TYPE } from '../src/workflows/contract';
import { E2E_TASK_QUEUE, temporalAddress } from './support/e2e-env';
import { NodeProcess, startWorkerProcess } from './support/processes';
import { TemporalObserver, scheduledSteps, signalNames } from './support/temporal';
import { expectEventsAtEveryOffset } from './support/event-offsets';
import { waitFor } from './support/wait';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const UNSET_CONTROL = {
  is_paused: false,
  is_cancelled: false,
  paused_at: '',
  pause_reason: '',
  paused_by: '',
  cancel_reason: '',
  cancelled_by: '',
  pause_deadline: '',
  on_timeout: '',
};

/** A task's events without what differs from run to run (ids and times), in order. */
async function controlEvents(api: TestApi, taskId: string): Promise<Record<string, unknown>[]> {
  const res = await api.request('GET', `/api/v1/tasks/${taskId}/events?limit=200`);
  const events = res.body.events as Record<string, unknown>[];
  const seqs = events.map((e) => e.seq as number);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  return events
    .filter((e) => !['WORKFLOW_STARTED', 'PROGRESS'].includes(e.type as string))
    .map(({ workflow_id: _w, timestamp: _t, seq: _s, ...rest }) => rest);
}

const timerEvents = (events: Awaited<ReturnType<TemporalObserver['history']>>) =>
  events.flatMap((e) =>
    e.timerStartedEventAttributes
      ? ['started']
      : e.timerFiredEventAttributes
        ? ['fired']
        : e.timerCanceledEventAttributes
          ? ['cancelled']
          : [],
  );

describe('pause with a deadline', () => {
  let api: TestApi;
  let temporal: TemporalObserver;
  withApiAndTemporal((started, observer) => {
    api = started;
    temporal = observer;
  });

  const pause = (taskId: string, body: Record<string, unknown>) =>
    api.request('POST', `/api/v1/tasks/${taskId}/pause`, { json: body });
  const controlState = async (taskId: string) =>
    (await api.request('GET', `/api/v1/tasks/${taskId}/control-state`)).body;

  /** A task paused while its first step runs, so it waits at pre_step_2 until the deadline. */
  async function pausedWithDeadline(onTimeout: string): Promise<string> {
    const taskId = await api.submit({ steps: 2, step_duration_ms: 400 });
    await temporal.waitUntilStepRunning(taskId, 1);
    const res = await pause(taskId, {
      reason: 'waiting for review',
      timeout_seconds: 2,
      on_timeout: onTimeout,
    });
    expect([res.status, res.body]).toEqual([
      202,
      { success: true, message: 'Pause signal sent', task_id: taskId },
    ]);
    const control = await controlState(taskId);
    expect(control).toEqual({
      ...UNSET_CONTROL,
      is_paused: true,
      paused_at: expect.stringMatching(RFC3339),
      pause_reason: 'waiting for review',
      paused_by: 'alice',
      pause_deadline: new Date(Date.parse(control.paused_at) + 2000).toISOString(),
      on_timeout: onTimeout,
    });
    return taskId;
  }

  const pausedEvents = [
    {
      type: 'workflow.pausing',
      message: 'Pausing: waiting for review',
      reason: 'waiting for review',
      requested_by: 'alice',
    },
    { type: 'workflow.paused', message: 'Paused', checkpoint: 'pre_step_2' },
  ];

  it('on_timeout resume: the task continues where it waited, resumed by system, and completes', async () => {
    const taskId = await pausedWithDeadline('resume');

    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    expect(await controlState(taskId)).toEqual(UNSET_CONTROL);
    expect(await controlEvents(api, taskId)).toEqual([
      ...pausedEvents,
      {
        type: 'workflow.resumed',
        message: 'Resuming: pause timed out',
        reason: 'pause timed out',
        requested_by: 'system',
        checkpoint: 'pre_step_2',
      },
      { type: 'WORKFLOW_COMPLETED', message: 'Task completed', result: expect.any(String) },
    ]);
    const history = await temporal.history(taskId);
    expect(scheduledSteps(history).map((s) => s.step)).toEqual([1, 2]);
    expect(timerEvents(history)).toEqual(['started', 'fired']);
    expect(signalNames(history)).toEqual(['pause_v1']);
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it('on_timeout cancel: the task ends CANCELLED by system without running another step', async () => {
    const taskId = await pausedWithDeadline('cancel');

    await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');

    expect(await controlState(taskId)).toEqual({
      ...UNSET_CONTROL,
      is_cancelled: true,
      cancel_reason: 'pause timed out',
      cancelled_by: 'system',
    });
    expect(await controlEvents(api, taskId)).toEqual([
      ...pausedEvents,
      {
        type: 'workflow.cancelling',
        message: 'Cancelling: pause timed out',
        reason: 'pause timed out',
        requested_by: 'system',
      },
      {
        type: 'workflow.cancelled',
        message: 'Cancelled',
        checkpoint: 'pre_step_2',
        was_paused: true,
      },
    ]);
    const history = await temporal.history(taskId);
    expect(scheduledSteps(history).map((s) => s.step)).toEqual([1]);
    expect(history.at(-1)?.workflowExecutionCanceledEventAttributes).toBeDefined();
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it('on_timeout fail: the task ends FAILED with error "pause timed out"', async () => {
    const taskId = await pausedWithDeadline('fail');

    await api.waitForStatus(taskId, 'TASK_STATUS_FAILED');

    const status = await api.request('GET', `/api/v1/tasks/${taskId}`);
    expect(status.body).toEqual({
      task_id: taskId,
      workflow_id: taskId,
      status: 'TASK_STATUS_FAILED',
      result: '',
      error: 'pause timed out',
      created_at: expect.stringMatching(RFC3339),
      updated_at: status.body.completed_at,
      completed_at: expect.stringMatching(RFC3339),
      query: 'Summarize the quarterly report',
      session_id: expect.any(String),
      mode: 'standard',
      context: { steps: 2, step_duration_ms: 400 },
    });
    // Failed at the deadline: 2 s after the pause, which came after the task was created.
    expect(Date.parse(status.body.completed_at)).toBeGreaterThanOrEqual(
      Date.parse(status.body.created_at) + 2000,
    );
    expect(await controlState(taskId)).toEqual(UNSET_CONTROL);
    expect(await controlEvents(api, taskId)).toEqual([
      ...pausedEvents,
      { type: 'WORKFLOW_FAILED', message: 'Task failed', error: 'pause timed out' },
    ]);
    expect(scheduledSteps(await temporal.history(taskId)).map((s) => s.step)).toEqual([1]);
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it('on_timeout fail while the pause still waits for a long step: the step is stopped, the task fails at the deadline', async () => {
    const taskId = await api.submit({ steps: 2, step_duration_ms: 30_000 });
    await temporal.waitUntilStepRunning(taskId, 1);
    expect((await pause(taskId, { timeout_seconds: 1, on_timeout: 'fail' })).status).toBe(202);

    // Long before the 30 s step could have finished.
    await api.waitForStatus(taskId, 'TASK_STATUS_FAILED', 15_000);

    // The pause never reached its checkpoint: not paused, and no deadline left.
    expect(await controlState(taskId)).toEqual(UNSET_CONTROL);
    expect(await controlEvents(api, taskId)).toEqual([
      { type: 'workflow.pausing', message: 'Pausing', reason: '', requested_by: 'alice' },
      { type: 'WORKFLOW_FAILED', message: 'Task failed', error: 'pause timed out' },
    ]);
    const history = await temporal.history(taskId);
    expect(history.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
  });

  /** Pauses `taskId` while its first step runs, with a deadline far off; checks it is pending. */
  async function pauseWhileStepRuns(taskId: string): Promise<void> {
    await temporal.waitUntilStepRunning(taskId, 1);
    const res = await pause(taskId, { reason: 'hold', timeout_seconds: 600, on_timeout: 'cancel' });
    expect([res.status, res.body]).toEqual([
      202,
      { success: true, message: 'Pause signal sent', task_id: taskId },
    ]);
    const pending = await controlState(taskId);
    expect(pending).toEqual({
      ...UNSET_CONTROL,
      is_paused: true,
      paused_at: expect.stringMatching(RFC3339),
      pause_reason: 'hold',
      paused_by: 'alice',
      pause_deadline: new Date(Date.parse(pending.paused_at) + 600_000).toISOString(),
      on_timeout: 'cancel',
    });
  }

  const holdEvent = {
    type: 'workflow.pausing',
    message: 'Pausing: hold',
    reason: 'hold',
    requested_by: 'alice',
  };

  it('a step that fails while a pause waits for its checkpoint: FAILED, not paused, no deadline left', async () => {
    const taskId = await api.submit({ steps: 2, step_duration_ms: 3000, fail_at_step: 1 });
    await pauseWhileStepRuns(taskId);

    await api.waitForStatus(taskId, 'TASK_STATUS_FAILED');

    expect(await controlState(taskId)).toEqual(UNSET_CONTROL);
    expect(await controlEvents(api, taskId)).toEqual([
      holdEvent,
      {
        type: 'WORKFLOW_FAILED',
        message: 'Task failed',
        error: 'Simulated failure at step 1 of 2',
      },
    ]);
    expect(timerEvents(await temporal.history(taskId))).toEqual(['started']);
  });

  it('a task that times out while a pause waits for its checkpoint: TIMEOUT, not paused, no deadline left', async () => {
    // The API sets no execution timeout; another client of the same Temporal contract may.
    const taskId = `task_${randomUUID()}`;
    await temporal.client.workflow.start(TASK_WORKFLOW_TYPE, {
      workflowId: taskId,
      taskQueue: E2E_TASK_QUEUE,
      workflowExecutionTimeout: '5 seconds',
      memo: { [MEMO_TENANT_ID]: 'acme' },
      args: [
        {
          query: 'times out',
          session_id: 's',
          tenant_id: 'acme',
          user_id: 'alice',
          context: { steps: 2, step_duration_ms: 10_000 },
        },
      ],
    });
    await pauseWhileStepRuns(taskId);

    await api.waitForStatus(taskId, 'TASK_STATUS_TIMEOUT');

    expect(await controlState(taskId)).toEqual(UNSET_CONTROL);
    expect(await controlEvents(api, taskId)).toEqual([
      holdEvent,
      { type: 'WORKFLOW_FAILED', message: 'Task timed out', error: 'Task timed out' },
    ]);
  });

  it('a resume before the deadline clears it: no timer fires, the task completes as resumed by its user', async () => {
    const taskId = await api.submit({ steps: 2, step_duration_ms: 400 });
    await temporal.waitUntilStepRunning(taskId, 1);
    expect((await pause(taskId, { timeout_seconds: 60, on_timeout: 'cancel' })).status).toBe(202);
    await temporal.waitUntilPausedAt(taskId, 'pre_step_2');

    const resume = await api.request('POST', `/api/v1/tasks/${taskId}/resume`, {
      json: { reason: 'reviewed' },
    });

    expect(resume.status).toBe(202);
    expect(await controlState(taskId)).toEqual(UNSET_CONTROL);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    expect(await controlEvents(api, taskId)).toEqual([
      { type: 'workflow.pausing', message: 'Pausing', reason: '', requested_by: 'alice' },
      { type: 'workflow.paused', message: 'Paused', checkpoint: 'pre_step_2' },
      {
        type: 'workflow.resumed',
        message: 'Resuming: reviewed',
        reason: 'reviewed',
        requested_by: 'alice',
        checkpoint: 'pre_step_2',
      },
      { type: 'WORKFLOW_COMPLETED', message: 'Task completed', result: expect.any(String) },
    ]);
    expect(timerEvents(await temporal.history(taskId))).toEqual(['started', 'cancelled']);
  });

  it('a cancel before the deadline clears it: the task ends CANCELLED by its user, the timer never fires', async () => {
    const taskId = await api.submit({ steps: 2, step_duration_ms: 400 });
    await temporal.waitUntilStepRunning(taskId, 1);
    expect((await pause(taskId, { timeout_seconds: 60, on_timeout: 'resume' })).status).toBe(202);
    await temporal.waitUntilPausedAt(taskId, 'pre_step_2');

    const cancel = await api.request('POST', `/api/v1/tasks/${taskId}/cancel`, {
      json: { reason: 'not needed' },
    });

    expect([cancel.status, cancel.body]).toEqual([
      202,
      { success: true, message: 'Task cancelled successfully', task_id: taskId },
    ]);
    const cancelled = {
      ...UNSET_CONTROL,
      is_cancelled: true,
      cancel_reason: 'not needed',
      cancelled_by: 'alice',
    };
    expect(await controlState(taskId)).toEqual(cancelled);
    await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
    expect(await controlState(taskId)).toEqual(cancelled);
    expect(await controlEvents(api, taskId)).toEqual([
      { type: 'workflow.pausing', message: 'Pausing', reason: '', requested_by: 'alice' },
      { type: 'workflow.paused', message: 'Paused', checkpoint: 'pre_step_2' },
      {
        type: 'workflow.cancelling',
        message: 'Cancelling: not needed',
        reason: 'not needed',
        requested_by: 'alice',
      },
      {
        type: 'workflow.cancelled',
        message: 'Cancelled',
        checkpoint: 'pre_step_2',
        was_paused: true,
      },
    ]);
    // The history of a closed task is final: this timer can never fire.
    const history = await temporal.history(taskId);
    expect(timerEvents(history)).toEqual(['started', 'cancelled']);
    expect(scheduledSteps(history).map((s) => s.step)).toEqual([1]);
  });

  it('refuses a deadline it cannot keep, naming the problem', async () => {
    const taskId = await api.submit({ steps: 1, step_duration_ms: 5000 });
    const cases: [Record<string, unknown>, string][] = [
      [{ on_timeout: 'cancel' }, 'on_timeout needs timeout_seconds'],
      [{ timeout_seconds: 0 }, 'timeout_seconds must be an integer from 1 to 604800'],
      [{ timeout_seconds: 604_801 }, 'timeout_seconds must be an integer from 1 to 604800'],
      [{ timeout_seconds: 1.5 }, 'timeout_seconds must be an integer from 1 to 604800'],
      [{ timeout_seconds: '60' }, 'timeout_seconds must be an integer from 1 to 604800'],
      [{ timeout_seconds: null }, 'timeout_seconds must be an integer from 1 to 604800'],
      [
        { timeout_seconds: 60, on_timeout: 'ignore' },
        'on_timeout must be one of resume, cancel, fail',
      ],
    ];
    for (const [body, error] of cases) {
      const res = await pause(taskId, body);
      expect([body, res.status, res.body]).toEqual([body, 400, { error }]);
    }
    expect(signalNames(await temporal.history(taskId))).toEqual([]);
    await api.request('POST', `/api/v1/tasks/${taskId}/cancel`);
  });
});

describe('a pause deadline with the worker killed and no API running', () => {
  // Its own task queue: the run's shared worker never sees these tasks.
  const taskQueue = `deadline-restart-${randomUUID()}`;
  let worker: NodeProcess | undefined;
  let temporal: TemporalObserver;

  beforeAll(async () => {
    temporal = await TemporalObserver.connect();
  });
  afterAll(async () => {
    await worker?.stop();
    await temporal.close();
  });

  it('fires on Temporal meanwhile and takes effect as soon as a worker runs again', async () => {
    worker = startWorkerProcess({ address: temporalAddress(), taskQueue });
    let api = await TestApi.start({ taskQueue });
    const taskId = await api.submit({ steps: 2, step_duration_ms: 300 });
    await temporal.waitUntilStepRunning(taskId, 1);
    const res = await api.request('POST', `/api/v1/tasks/${taskId}/pause`, {
      json: { reason: 'overnight', timeout_seconds: 4, on_timeout: 'cancel' },
    });
    expect(res.status).toBe(202);
    await temporal.waitUntilPausedAt(taskId, 'pre_step_2');

    await worker.kill();
    await api.close();
    // The timer is Temporal's: it fires with no worker and no API.
    await waitFor(
      'the deadline timer to fire',
      async () => timerEvents(await temporal.history(taskId)).includes('fired'),
      20_000,
    );
    const { status } = await temporal.client.workflow.getHandle(taskId).describe();
    expect(status.name).toBe('RUNNING');

    worker = startWorkerProcess({ address: temporalAddress(), taskQueue });
    await waitFor('the task to end', async () => {
      const { status: now } = await temporal.client.workflow.getHandle(taskId).describe();
      return now.name === 'CANCELLED';
    });

    api = await TestApi.start({ taskQueue });
    try {
      expect(await api.status(taskId)).toBe('TASK_STATUS_CANCELLED');
      expect((await api.request('GET', `/api/v1/tasks/${taskId}/control-state`)).body).toEqual({
        ...UNSET_CONTROL,
        is_cancelled: true,
        cancel_reason: 'pause timed out',
        cancelled_by: 'system',
      });
      const actions = await api.request('GET', `/api/v1/tasks/${taskId}/actions`);
      expect(actions.body.actions.map((a: { action: string }) => a.action)).toEqual([
        'submit',
        'pause',
        'pause_timeout',
      ]);
      expect(scheduledSteps(await temporal.history(taskId)).map((s) => s.step)).toEqual([1]);
    } finally {
      await api.close();
    }
  });
});
