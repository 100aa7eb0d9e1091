import { Context } from '@temporalio/activity';
import {
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { effectiveControl, readTaskHistory, statusOf } from '../tasks/task-history';
import type { TaskEvent } from '../tasks/task-event';
import { expectCountsOfTheFold } from '../testing/task-event-counts';
import { temporalTestServerLauncher } from '../testing/temporal-test-server';
import { waitFor } from '../testing/wait';
import type { ControlActivities, TaskActivities } from '../workflows/activity-contract';
import { APPROVAL_TIMED_OUT, type ApprovalSpec } from '../workflows/approval-contract';
import {
  ControlRecord,
  MEMO_CONTROL,
  MEMO_PROGRESS,
  OnTimeout,
  PAUSE_SIGNAL,
  PAUSE_TIMED_OUT,
  RESUME_SIGNAL,
  SEARCH_ATTRIBUTES,
  SYSTEM_ACTOR,
  TASK_WORKFLOW_TYPE,
  TaskInput,
  TaskProgress,
  initialControlState,
  publicControlState,
  taskStartRecord,
} from '../workflows/contract';
import {
  DeliveryProgress,
  DeliverySessionInput,
  DeliverySessionResult,
  MEMO_DELIVERIES,
  webhookTaskQueue,
  webhookWorkflowId,
} from '../workflows/webhook-contract';
import { bundleTaskWorkflows } from './task-worker';

/**
 * The task workflow's long waits (pause deadlines, approval timeouts, a day of webhook retries)
 * run through in skipped time, on Temporal's time-skipping test server: the Java server from
 * Maven Central, resolved on first use by deploy/temporal-test-server/install.sh. The workflow
 * code is the real one, bundled as `npm run build` bundles it; the activities are stubs, since
 * no executor or receiver is under test here. The outcome is read the way the API reads a task:
 * its history folded by `readTaskHistory` (status, events, control state) and its memo.
 *
 * The e2e specs run the same paths with real 1 s timers on a real Temporal; these show the
 * hours-long ones end as documented once that much time has passed, and not before.
 */
const QUEUE = 'time-skipping';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const { EventType, IndexedValueType } = temporal.api.enums.v1;

/** Server time (skipped) of a stub call: when Temporal scheduled that attempt. */
const scheduledAt = (): string =>
  new Date(Context.current().info.currentAttemptScheduledTimestampMs).toISOString();

/** A step held until the test lets it finish, so that a pause lands while it runs. */
class HeldStep {
  private release!: () => void;
  readonly released = new Promise<void>((resolve) => (this.release = resolve));
  private started!: () => void;
  readonly running = new Promise<void>((resolve) => (this.started = resolve));
  enter(): Promise<void> {
    this.started();
    return this.released;
  }
  finish(): void {
    this.release();
  }
}

describe('taskWorkflow in skipped time (Temporal time-skipping test server)', () => {
  jest.setTimeout(60_000);
  let env: TestWorkflowEnvironment;
  let stopWorkers: () => Promise<void>;
  /** The stub calls of the test, with the server time Temporal scheduled each at. */
  let calls: { name: string; at: string; detail?: unknown }[];
  /** Step 1 of these tasks waits for the test. */
  const held = new Map<string, HeldStep>();
  /** Webhook sessions: the receiver never answers 2xx (see deliverTaskWebhooks below). */
  let sessions: { at: string; progress: DeliveryProgress }[];

  const activities: TaskActivities & ControlActivities = {
    planTask: () => {
      calls.push({ name: 'planTask', at: scheduledAt() });
      return Promise.resolve({ steps: ['gather', 'write'] });
    },
    runStep: async (input) => {
      calls.push({ name: 'runStep', at: scheduledAt(), detail: input.step });
      if (input.step === 1) await held.get(input.task.query)?.enter();
      return { output: `out ${input.step}` };
    },
    synthesizeResult: (input) => {
      calls.push({ name: 'synthesizeResult', at: scheduledAt() });
      return Promise.resolve({ result: input.outputs.join(' + ') });
    },
    // What the worker's control activity does: ask Temporal to cancel the task's workflow.
    requestTaskCancellation: async (taskId) => {
      calls.push({ name: 'requestTaskCancellation', at: scheduledAt() });
      await env.client.workflow.getHandle(taskId).cancel();
    },
    applyBatchAction: () => Promise.reject(new Error('no batches in this spec')),
  };

  /**
   * Stands in for the delivery session (src/webhooks): a receiver that is down for good. Each
   * session makes one attempt at the task's first event, which fails; the next is due an hour
   * later (the backoff's ceiling), so the session ends and the delivery workflow waits on a
   * timer. An event whose first failure is 24 h old is given up. Times are the server's.
   */
  const webhookActivities = {
    deliverTaskWebhooks: async (input: DeliverySessionInput): Promise<DeliverySessionResult> => {
      const now = Context.current().info.currentAttemptScheduledTimestampMs;
      const { progress } = input;
      sessions.push({ at: new Date(now).toISOString(), progress });
      // A session before its retry is due is the bug this test looks for: end the deliveries
      // there, so the test fails on the session times instead of running sessions all day.
      if (progress.retrying && now < Date.parse(progress.retrying.next_at)) {
        return { progress, done: true };
      }
      const since = progress.retrying ? Date.parse(progress.retrying.since) : now;
      const failures = progress.failures + 1;
      if (now - since >= DAY) {
        const task = await env.client.workflow.getHandle(input.task_id, input.run_id).describe();
        return {
          progress: { seq: 1, failures, given_up: progress.given_up + 1 },
          done: task.status.name !== 'RUNNING',
        };
      }
      const attempts = (progress.retrying?.attempts ?? 0) + 1;
      return {
        progress: {
          seq: progress.seq,
          failures,
          given_up: progress.given_up,
          retrying: {
            seq: 1,
            since: new Date(since).toISOString(),
            attempts,
            next_at: new Date(now + HOUR).toISOString(),
          },
        },
        done: false,
      };
    },
  };

  // The first run on a machine resolves the server with Maven (about 15 s from an empty Maven
  // repository, once); later runs start it in well under a second.
  beforeAll(async () => {
    // ERROR: the SDK warns of outcomes these tests expect (a task failing by its deadline, a
    // worker that runs activities only). Core's own warnings still print: a workflow task that
    // Temporal refused shows up there.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: temporalTestServerLauncher() } },
    });
    // As `npm run temporal:setup` does on a real server (this one lists none, so no check).
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace,
      searchAttributes: Object.fromEntries(
        SEARCH_ATTRIBUTES.map((a) => [a.name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
    const code = await bundleTaskWorkflows();
    const workers = await Promise.all([
      Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace,
        taskQueue: QUEUE,
        workflowBundle: { code },
        activities,
        sinks: { taskNotices: { changed: { fn: () => undefined } } },
      }),
      Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace,
        taskQueue: webhookTaskQueue(QUEUE),
        activities: webhookActivities,
      }),
    ]);
    const running = Promise.all(workers.map((w) => w.run()));
    stopWorkers = async () => {
      workers.forEach((w) => w.shutdown());
      await running;
    };
  }, 300_000);

  beforeEach(() => {
    calls = [];
    sessions = [];
  });

  afterAll(async () => {
    await stopWorkers?.();
    await env?.teardown();
  });

  /** Starts a task as the API does (its start memo and search attributes); query = task ID. */
  async function submit(taskId: string, extra: Partial<TaskInput> = {}): Promise<WorkflowHandle> {
    const task: TaskInput = {
      query: taskId,
      session_id: 'nightly',
      tenant_id: 'acme',
      user_id: 'alice',
      context: {},
      ...extra,
    };
    const record = taskStartRecord(task, 'hash', { key_name: 'ci' });
    return env.client.workflow.start(TASK_WORKFLOW_TYPE, {
      taskQueue: QUEUE,
      workflowId: taskId,
      args: [task],
      memo: record.memo,
      typedSearchAttributes: record.searchAttributes,
    });
  }

  const memoOf = async (handle: WorkflowHandle) => {
    const { memo } = await handle.describe();
    return {
      control: memo?.[MEMO_CONTROL] as ControlRecord,
      progress: memo?.[MEMO_PROGRESS] as TaskProgress,
    };
  };

  /**
   * The task as the API reads it: its history folded (status, control state, events). Every
   * record the workflow made so far counts the task events up to it as the fold does (what
   * GET /events?offset= relies on), whatever path the test took.
   */
  async function apiView(handle: WorkflowHandle) {
    const { events: history } = await handle.fetchHistory();
    expect(expectCountsOfTheFold(history ?? [])).toBeGreaterThan(0);
    const read = readTaskHistory(handle.workflowId, (await handle.describe()).runId, history ?? []);
    if (!read) throw new Error(`${handle.workflowId} is not a task`);
    const { task, events } = read;
    return {
      status: statusOf(task),
      control: publicControlState(effectiveControl(task)),
      result: task.result,
      error: task.error,
      /** Events without their volatile parts: what happened, in order. */
      events: events.map(({ workflow_id: _, timestamp: _t, seq: _s, ...rest }) => rest),
      /** When the first event of `type` happened (server time). */
      at: (type: TaskEvent['type']): number => {
        const event = events.find((e) => e.type === type);
        if (!event) throw new Error(`no ${type} event`);
        return Date.parse(event.timestamp);
      },
    };
  }

  /** What GET /tasks/{id} and control-state would answer (without times and the ETag). */
  const outcome = ({ status, control, result, error }: Awaited<ReturnType<typeof apiView>>) => ({
    status,
    control,
    result,
    error,
  });

  /** Starts a task, holds its step 1, pauses it with a deadline meanwhile, lets the step end. */
  async function pausedAtStep2(taskId: string, onTimeout: OnTimeout) {
    const step = new HeldStep();
    held.set(taskId, step);
    const handle = await submit(taskId);
    await step.running;
    await handle.signal(PAUSE_SIGNAL, {
      reason: 'legal review',
      requested_by: 'bob',
      timeout_seconds: 7200,
      on_timeout: onTimeout,
    });
    step.finish();
    const { control } = await waitFor('the pause to hold at pre_step_2', async () => {
      const memo = await memoOf(handle);
      return memo.progress?.waiting && memo.progress.checkpoint === 'pre_step_2' && memo;
    });
    const pausedAt = Date.parse(control.paused_at);
    return { handle, pausedAt, deadline: pausedAt + 2 * HOUR };
  }

  /** The pause as it stands after an hour: still held, its deadline two hours after it. */
  async function expectStillPausedAfterAnHour(
    handle: WorkflowHandle,
    pausedAt: number,
    onTimeout: OnTimeout,
  ): Promise<void> {
    await env.sleep('1 hour');
    const pending = {
      ...initialControlState(),
      is_paused: true,
      paused_at: new Date(pausedAt).toISOString(),
      pause_reason: 'legal review',
      paused_by: 'bob',
      pause_deadline: new Date(pausedAt + 2 * HOUR).toISOString(),
      on_timeout: onTimeout,
      version: 1,
    };
    expect(await memoOf(handle)).toEqual({
      control: pending,
      progress: {
        checkpoint: 'pre_step_2',
        steps_done: 1,
        steps_total: 2,
        waiting: true,
        cancelled: false,
      },
    });
    expect((await apiView(handle)).status).toBe('TASK_STATUS_PAUSED');
    expect(calls.filter((c) => c.name === 'runStep').map((c) => c.detail)).toEqual([1]);
  }

  const startEvents = [
    { type: 'WORKFLOW_STARTED', message: 'Task started' },
    { type: 'PROGRESS', message: 'Checkpoint pre_planning', checkpoint: 'pre_planning', step: 0 },
    { type: 'PROGRESS', message: 'Checkpoint pre_step_1', checkpoint: 'pre_step_1', step: 0 },
    {
      type: 'workflow.pausing',
      message: 'Pausing: legal review',
      reason: 'legal review',
      requested_by: 'bob',
    },
    { type: 'PROGRESS', message: 'Step 1 of 2 completed', checkpoint: 'pre_step_1', step: 1 },
    { type: 'PROGRESS', message: 'Checkpoint pre_step_2', checkpoint: 'pre_step_2', step: 1 },
    { type: 'workflow.paused', message: 'Paused', checkpoint: 'pre_step_2' },
  ];

  describe('a pause with a 2 h deadline', () => {
    it('on_timeout resume: still paused after 1 h; at 2 h the task resumes by system and completes', async () => {
      const { handle, pausedAt, deadline } = await pausedAtStep2('task_ts_resume', 'resume');
      await expectStillPausedAfterAnHour(handle, pausedAt, 'resume');

      await expect(handle.result()).resolves.toBe('out 1 + out 2');
      const view = await apiView(handle);
      expect(outcome(view)).toEqual({
        status: 'TASK_STATUS_COMPLETED',
        control: publicControlState(initialControlState()),
        result: 'out 1 + out 2',
        error: '',
      });
      expect(view.events).toEqual([
        ...startEvents,
        {
          type: 'workflow.resumed',
          message: 'Resuming: pause timed out',
          reason: PAUSE_TIMED_OUT,
          requested_by: SYSTEM_ACTOR,
          checkpoint: 'pre_step_2',
        },
        { type: 'PROGRESS', message: 'Step 2 of 2 completed', checkpoint: 'pre_step_2', step: 2 },
        {
          type: 'PROGRESS',
          message: 'Checkpoint pre_synthesis',
          checkpoint: 'pre_synthesis',
          step: 2,
        },
        {
          type: 'PROGRESS',
          message: 'Checkpoint pre_completion',
          checkpoint: 'pre_completion',
          step: 2,
        },
        { type: 'WORKFLOW_COMPLETED', message: 'Task completed', result: 'out 1 + out 2' },
      ]);
      // Not before the deadline, and at it (the server jumps straight to the timer).
      expect(view.at('workflow.resumed')).toBeGreaterThanOrEqual(deadline);
      expect(view.at('workflow.resumed')).toBeLessThan(deadline + 60_000);
      const step2 = calls.find((c) => c.name === 'runStep' && c.detail === 2)!;
      expect(Date.parse(step2.at)).toBeGreaterThanOrEqual(deadline);
      expect((await memoOf(handle)).control).toEqual({
        ...initialControlState(),
        version: 2,
        timed_out: 'resume',
      });
    });

    it('on_timeout cancel: at 2 h the task ends CANCELLED by system, "pause timed out"', async () => {
      const { handle, pausedAt, deadline } = await pausedAtStep2('task_ts_cancel', 'cancel');
      await expectStillPausedAfterAnHour(handle, pausedAt, 'cancel');

      const failure = await handle.result().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      const view = await apiView(handle);
      expect(outcome(view)).toEqual({
        status: 'TASK_STATUS_CANCELLED',
        control: {
          ...publicControlState(initialControlState()),
          is_cancelled: true,
          cancel_reason: PAUSE_TIMED_OUT,
          cancelled_by: SYSTEM_ACTOR,
        },
        result: '',
        error: '',
      });
      expect(view.events).toEqual([
        ...startEvents,
        {
          type: 'workflow.cancelling',
          message: 'Cancelling: pause timed out',
          reason: PAUSE_TIMED_OUT,
          requested_by: SYSTEM_ACTOR,
        },
        {
          type: 'workflow.cancelled',
          message: 'Cancelled',
          checkpoint: 'pre_step_2',
          was_paused: true,
        },
      ]);
      expect(view.at('workflow.cancelling')).toBeGreaterThanOrEqual(deadline);
      expect(view.at('workflow.cancelling')).toBeLessThan(deadline + 60_000);
      // The workflow asked Temporal for its own cancellation, once; step 2 never ran.
      expect(calls.map((c) => [c.name, c.detail])).toEqual([
        ['planTask', undefined],
        ['runStep', 1],
        ['requestTaskCancellation', undefined],
      ]);
      expect(await memoOf(handle)).toEqual({
        control: {
          ...initialControlState(),
          is_cancelled: true,
          cancel_reason: PAUSE_TIMED_OUT,
          cancelled_by: SYSTEM_ACTOR,
          version: 2,
          was_paused: true,
          timed_out: 'cancel',
        },
        progress: {
          checkpoint: 'pre_step_2',
          steps_done: 1,
          steps_total: 2,
          waiting: true,
          cancelled: true,
        },
      });
    });

    it('on_timeout fail: at 2 h the task ends FAILED with error "pause timed out"', async () => {
      const { handle, pausedAt, deadline } = await pausedAtStep2('task_ts_fail', 'fail');
      await expectStillPausedAfterAnHour(handle, pausedAt, 'fail');

      const failure = await handle.result().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({
        message: PAUSE_TIMED_OUT,
        type: 'PauseTimedOut',
        nonRetryable: true,
      });
      expect((await handle.describe()).status.name).toBe('FAILED');
      const view = await apiView(handle);
      expect(outcome(view)).toEqual({
        status: 'TASK_STATUS_FAILED',
        control: publicControlState(initialControlState()),
        result: '',
        error: PAUSE_TIMED_OUT,
      });
      expect(view.events).toEqual([
        ...startEvents,
        { type: 'WORKFLOW_FAILED', message: 'Task failed', error: PAUSE_TIMED_OUT },
      ]);
      expect(view.at('WORKFLOW_FAILED')).toBeGreaterThanOrEqual(deadline);
      expect(view.at('WORKFLOW_FAILED')).toBeLessThan(deadline + 60_000);
      expect(calls.map((c) => [c.name, c.detail])).toEqual([
        ['planTask', undefined],
        ['runStep', 1],
      ]);
      expect((await memoOf(handle)).control).toEqual({
        ...initialControlState(),
        version: 2,
        timed_out: 'fail',
      });
    });

    it('a resume after 1 h clears the deadline: its timer is cancelled and never applies', async () => {
      const { handle, pausedAt, deadline } = await pausedAtStep2('task_ts_early', 'cancel');
      await expectStillPausedAfterAnHour(handle, pausedAt, 'cancel');
      await handle.signal(RESUME_SIGNAL, { reason: 'reviewed', requested_by: 'bob' });

      await expect(handle.result()).resolves.toBe('out 1 + out 2');
      const view = await apiView(handle);
      expect(view.status).toBe('TASK_STATUS_COMPLETED');
      expect(view.events.filter((e) => e.type.startsWith('workflow.'))).toEqual([
        {
          type: 'workflow.pausing',
          message: 'Pausing: legal review',
          reason: 'legal review',
          requested_by: 'bob',
        },
        { type: 'workflow.paused', message: 'Paused', checkpoint: 'pre_step_2' },
        {
          type: 'workflow.resumed',
          message: 'Resuming: reviewed',
          reason: 'reviewed',
          requested_by: 'bob',
          checkpoint: 'pre_step_2',
        },
      ]);
      expect(view.at('workflow.resumed')).toBeLessThan(deadline);
      const { events: history } = await handle.fetchHistory();
      const types = (history ?? []).map((e) => e.eventType);
      expect(types.filter((t) => t === EventType.EVENT_TYPE_TIMER_STARTED)).toHaveLength(1);
      expect(types.filter((t) => t === EventType.EVENT_TYPE_TIMER_CANCELED)).toHaveLength(1);
      expect(types.filter((t) => t === EventType.EVENT_TYPE_TIMER_FIRED)).toHaveLength(0);
      expect(calls.map((c) => c.name)).not.toContain('requestTaskCancellation');
      expect((await memoOf(handle)).control).toEqual({ ...initialControlState(), version: 2 });
    });
  });

  describe('an approval gate with a 24 h timeout', () => {
    const gate = (onTimeout: ApprovalSpec['on_timeout']): ApprovalSpec => ({
      checkpoints: ['pre_step_1'],
      timeout_seconds: 86_400,
      on_timeout: onTimeout,
    });

    /** Submits, waits until the gate asks; the request still pending 23 h later. */
    async function awaitingDecision(taskId: string, onTimeout: ApprovalSpec['on_timeout']) {
      const handle = await submit(taskId, { approval: gate(onTimeout) });
      const approvalId = `apr_${taskId}_pre_step_1`;
      const requested = await waitFor('the approval request', async () => {
        const { memo } = await handle.describe();
        const approvals = memo?.approvals as { pending: { requested_at: string } | null };
        return approvals?.pending?.requested_at;
      });
      await env.sleep('23 hours');
      const pending = {
        approval_id: approvalId,
        checkpoint: 'pre_step_1',
        requested_at: requested,
      };
      expect((await handle.describe()).memo?.approvals).toEqual({
        version: 1,
        pending,
        approvals: [{ ...pending, state: 'pending', decided_at: '', decided_by: '', feedback: '' }],
      });
      expect(calls.map((c) => c.name)).toEqual(['planTask']);
      return { handle, approvalId, requestedAt: Date.parse(requested) };
    }

    const gateEvents = (approvalId: string) => [
      { type: 'WORKFLOW_STARTED', message: 'Task started' },
      { type: 'PROGRESS', message: 'Checkpoint pre_planning', checkpoint: 'pre_planning', step: 0 },
      { type: 'PROGRESS', message: 'Checkpoint pre_step_1', checkpoint: 'pre_step_1', step: 0 },
      {
        type: 'APPROVAL_REQUESTED',
        message: 'Approval requested at pre_step_1',
        approval_id: approvalId,
        checkpoint: 'pre_step_1',
      },
    ];

    const expiredRecord = (approvalId: string, requestedAt: number, decidedAt: string) => ({
      version: 2,
      pending: null,
      approvals: [
        {
          approval_id: approvalId,
          checkpoint: 'pre_step_1',
          requested_at: new Date(requestedAt).toISOString(),
          state: 'expired',
          decided_at: decidedAt,
          decided_by: SYSTEM_ACTOR,
          feedback: '',
        },
      ],
    });

    it('on_timeout reject: pending for 23 h; at 24 h it expires and the task ends CANCELLED by system', async () => {
      const { handle, approvalId, requestedAt } = await awaitingDecision(
        'task_ts_gate_reject',
        'reject',
      );

      const failure = await handle.result().catch((err: unknown) => err);
      expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      const description: WorkflowExecutionDescription = await handle.describe();
      expect(description.status.name).toBe('CANCELLED');
      const decidedAt = (description.memo?.approvals as { approvals: { decided_at: string }[] })
        .approvals[0].decided_at;
      expect(Date.parse(decidedAt)).toBeGreaterThanOrEqual(requestedAt + DAY);
      expect(Date.parse(decidedAt)).toBeLessThan(requestedAt + DAY + 60_000);
      expect(description.memo?.approvals).toEqual(
        expiredRecord(approvalId, requestedAt, decidedAt),
      );
      const view = await apiView(handle);
      expect(outcome(view)).toEqual({
        status: 'TASK_STATUS_CANCELLED',
        control: {
          ...publicControlState(initialControlState()),
          is_cancelled: true,
          cancel_reason: APPROVAL_TIMED_OUT,
          cancelled_by: SYSTEM_ACTOR,
        },
        result: '',
        error: '',
      });
      expect(view.events).toEqual([
        ...gateEvents(approvalId),
        {
          type: 'APPROVAL_DECISION',
          message: 'Approval timed out: rejected',
          approval_id: approvalId,
          checkpoint: 'pre_step_1',
          approved: false,
          decided_by: SYSTEM_ACTOR,
          feedback: '',
          expired: true,
        },
        {
          type: 'workflow.cancelled',
          message: 'Cancelled',
          checkpoint: 'pre_step_1',
          was_paused: false,
        },
      ]);
      // No step ran; the workflow asked Temporal for its cancellation once, at the expiry.
      expect(calls.map((c) => c.name)).toEqual(['planTask', 'requestTaskCancellation']);
      expect(Date.parse(calls[1].at)).toBeGreaterThanOrEqual(Date.parse(decidedAt));
      expect(Date.parse(calls[1].at)).toBeLessThan(Date.parse(decidedAt) + 60_000);
    });

    it('on_timeout approve: pending for 23 h; at 24 h it expires and the task goes on to complete', async () => {
      const { handle, approvalId, requestedAt } = await awaitingDecision(
        'task_ts_gate_approve',
        'approve',
      );

      await expect(handle.result()).resolves.toBe('out 1 + out 2');
      const { memo } = await handle.describe();
      const decidedAt = (memo?.approvals as { approvals: { decided_at: string }[] }).approvals[0]
        .decided_at;
      expect(Date.parse(decidedAt)).toBeGreaterThanOrEqual(requestedAt + DAY);
      expect(Date.parse(decidedAt)).toBeLessThan(requestedAt + DAY + 60_000);
      expect(memo?.approvals).toEqual(expiredRecord(approvalId, requestedAt, decidedAt));
      const view = await apiView(handle);
      expect(outcome(view)).toEqual({
        status: 'TASK_STATUS_COMPLETED',
        control: publicControlState(initialControlState()),
        result: 'out 1 + out 2',
        error: '',
      });
      expect(view.events).toEqual([
        ...gateEvents(approvalId),
        {
          type: 'APPROVAL_DECISION',
          message: 'Approval timed out: approved',
          approval_id: approvalId,
          checkpoint: 'pre_step_1',
          approved: true,
          decided_by: SYSTEM_ACTOR,
          feedback: '',
          expired: true,
        },
        { type: 'PROGRESS', message: 'Step 1 of 2 completed', checkpoint: 'pre_step_1', step: 1 },
        { type: 'PROGRESS', message: 'Checkpoint pre_step_2', checkpoint: 'pre_step_2', step: 1 },
        { type: 'PROGRESS', message: 'Step 2 of 2 completed', checkpoint: 'pre_step_2', step: 2 },
        {
          type: 'PROGRESS',
          message: 'Checkpoint pre_synthesis',
          checkpoint: 'pre_synthesis',
          step: 2,
        },
        {
          type: 'PROGRESS',
          message: 'Checkpoint pre_completion',
          checkpoint: 'pre_completion',
          step: 2,
        },
        { type: 'WORKFLOW_COMPLETED', message: 'Task completed', result: 'out 1 + out 2' },
      ]);
      // The steps ran only once the request had expired.
      expect(calls.map((c) => c.name)).toEqual([
        'planTask',
        'runStep',
        'runStep',
        'synthesizeResult',
      ]);
      expect(Date.parse(calls[1].at)).toBeGreaterThanOrEqual(requestedAt + DAY);
    });
  });

  describe('webhook deliveries to a receiver that stays down', () => {
    it('are retried on timers for 24 h, then given up and counted, while the task completed at once', async () => {
      const taskId = 'task_ts_webhook';
      const handle = await submit(taskId, {
        webhook: { url: 'https://receiver.example/hooks', events: ['WORKFLOW_STARTED'] },
      });
      await expect(handle.result()).resolves.toBe('out 1 + out 2');
      const startedAt = (await handle.describe()).startTime.getTime();
      const completedAt = (await apiView(handle)).at('WORKFLOW_COMPLETED');
      expect(completedAt - startedAt).toBeLessThan(60_000);

      const deliveries = env.client.workflow.getHandle(webhookWorkflowId(taskId));
      const final = await deliveries.result();
      expect(final).toEqual({ seq: 1, failures: 25, given_up: 1 });
      const done = await deliveries.describe();
      expect(done.status.name).toBe('COMPLETED');
      expect(done.memo?.[MEMO_DELIVERIES]).toEqual(final);

      // One session an hour: each began once the previous one's retry was due, never earlier
      // (the workflow waits on a timer), and the 25th, 24 h after the first failure, gave up.
      expect(sessions).toHaveLength(25);
      const first = Date.parse(sessions[0].at);
      sessions.slice(1).forEach((session, i) => {
        expect(Date.parse(session.at)).toBeGreaterThanOrEqual(
          Date.parse(sessions[i + 1].progress.retrying!.next_at),
        );
        expect(session.progress.failures).toBe(i + 1);
      });
      expect(Date.parse(sessions[24].at) - first).toBeGreaterThanOrEqual(DAY);
      expect(Date.parse(sessions[24].at) - first).toBeLessThan(DAY + 60_000);
    });
  });
});
