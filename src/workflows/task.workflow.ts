import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  isCancellation,
  proxyActivities,
  setDefaultSignalHandler,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities, TaskActivities } from './activity-contract';
import {
  APPROVAL_SIGNAL,
  APPROVAL_TIMED_OUT,
  rejectedReason,
  toApprovalDecision,
} from './approval-contract';
import { ApprovalGate } from './approval-gate';
import {
  ACTIVITY_RESULT_VERSION,
  MEMO_APPROVALS,
  MEMO_CONTROL,
  MEMO_MODEL_USAGE,
  MEMO_PROGRESS,
  MEMO_TASK_EVENTS,
  MEMO_UPDATED_AT,
  ModelReport,
  ModelUsageRecord,
  TASK_STATUS_ATTRIBUTE,
  TaskInput,
  SYSTEM_ACTOR,
  TaskProgress,
  addModelReport,
  checkpointBeforeStep,
  controlStateQuery,
  isControlSignalName,
  publicControlState,
  requestTime,
  toControlRequest,
  toPlanResult,
  toStepResult,
  toSynthesisResult,
} from './contract';
import {
  TASK_WEBHOOKS_WORKFLOW_TYPE,
  TaskWebhooksInput,
  WebhookSpec,
  webhookWorkflowId,
} from './webhook-contract';
import { ControlGate } from './control-gate';
import { countTaskEvents } from './task-event-count';

const { planTask, runStep, synthesizeResult } = proxyActivities<TaskActivities>({
  // An executor bounds each call itself (EXECUTOR_HTTP_TIMEOUT_MS is at most an hour); this only
  // catches a call that never ends. A dead worker is noticed by the heartbeat timeout.
  startToCloseTimeout: '2 hours',
  // Every call heartbeats each second: heartbeats carry cancellation to a running call, so a
  // cancelled task stops promptly, and a call whose worker died is retried within seconds.
  heartbeatTimeout: '5 seconds',
  // About four minutes of backoff before a task fails on an executor that keeps failing
  // (a Retry-After the executor reports replaces one wait).
  retry: { maximumAttempts: 10, maximumInterval: '1 minute' },
});

const { requestTaskCancellation } = proxyActivities<ControlActivities>({
  startToCloseTimeout: '1 minute',
  // Until Temporal takes the request: a task whose deadline cancels it must end cancelled.
  retry: { maximumInterval: '1 minute' },
});

/**
 * Starts the task's delivery workflow as a child that outlives it (its deliveries go on after
 * the task closes, and it never holds the task up). Resolves once Temporal started it: a child
 * whose parent closed before that is never started, so the task awaits this before it ends.
 */
function startWebhookDeliveries(webhook: WebhookSpec): Promise<void> {
  const { workflowId, runId } = workflowInfo();
  const input: TaskWebhooksInput = { task_id: workflowId, run_id: runId, webhook };
  return CancellationScope.nonCancellable(() =>
    startChild(TASK_WEBHOOKS_WORKFLOW_TYPE, {
      workflowId: webhookWorkflowId(workflowId),
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    }),
  ).then(
    () => undefined,
    // Already started (a reset run of the same task): that one delivers.
    () => undefined,
  );
}

/**
 * Plans the query into steps, runs each step as an activity and synthesizes a result. Before
 * each phase it passes a named checkpoint; a pause takes effect there and resume continues from
 * there, so no finished step runs again.
 */
export async function taskWorkflow(task: TaskInput): Promise<string> {
  let progress: TaskProgress = {
    checkpoint: '',
    steps_done: 0,
    steps_total: 0,
    waiting: false,
    cancelled: false,
  };
  // Model, provider and token usage of the calls so far, for executors that report them.
  let modelUsage: ModelUsageRecord | undefined;
  const reported = <T extends ModelReport>(result: T): T => {
    modelUsage = addModelReport(modelUsage, result);
    return result;
  };

  // For listing by status; the API's own reads fold the history and never lag behind this.
  const recordListedStatus = (paused: boolean): void =>
    upsertSearchAttributes([{ key: TASK_STATUS_ATTRIBUTE, value: paused ? 'PAUSED' : 'RUNNING' }]);
  recordListedStatus(false);

  // The task's events so far, as a fold of the history counts them (see TaskEventCount).
  const taskEvents = countTaskEvents(() => ({
    control: gate.control,
    approvals: approvalGate.approvals,
  }));
  // The memo is readable through describe() and history without a worker; the query needs one.
  // Each change writes the whole state, so a reader can start from any upsert in the history,
  // and the number of task events up to it, so a reader can number the events after it.
  const record = (at: Date): void => {
    const state = {
      [MEMO_CONTROL]: gate.control,
      [MEMO_PROGRESS]: progress,
      [MEMO_UPDATED_AT]: at.toISOString(),
      ...(modelUsage && { [MEMO_MODEL_USAGE]: modelUsage }),
      ...(approvalGate.active && { [MEMO_APPROVALS]: approvalGate.approvals }),
    };
    upsertMemo({ ...state, [MEMO_TASK_EVENTS]: taskEvents.record(state) });
  };
  const recordProgress = (change: Partial<TaskProgress>): void => {
    progress = { ...progress, ...change };
    record(new Date());
  };

  // The phases run in a scope of their own, so a pause deadline that fails the task can stop
  // the step in progress.
  const work = new CancellationScope();
  const gate = new ControlGate({
    changed: (before, after, at) => {
      if (after.is_paused !== before.is_paused) recordListedStatus(after.is_paused);
      record(at);
    },
    requestCancellation: () =>
      CancellationScope.nonCancellable(() => requestTaskCancellation(workflowInfo().workflowId)),
    interrupt: () => work.cancel(),
  });
  const approvalGate = new ApprovalGate(workflowInfo().workflowId, task.approval, {
    changed: (at) => record(at),
    cancelled: () => gate.control.is_cancelled,
    // The workflow's own cancellation, by `system`; it asks Temporal for it itself.
    expiredRejected: (at) => {
      if (!gate.cancel(APPROVAL_TIMED_OUT, SYSTEM_ACTOR, at, true)) record(at);
    },
  });
  // One handler for every control signal, in the order Temporal recorded them. Separate
  // setHandler calls would each deliver their own buffered signals as they are registered, so a
  // pause, resume, pause sent before the first workflow task would arrive as pause, pause,
  // resume: the API's fold of the history and the workflow would disagree. Approval decisions
  // come the same way, ordered with them.
  setDefaultSignalHandler((name: string, ...args: unknown[]): void =>
    taskEvents.duringSignal(() => {
      if (isControlSignalName(name)) {
        gate.signal(name, toControlRequest(args[0]));
        return;
      }
      if (name === APPROVAL_SIGNAL && approvalGate.active) {
        const decision = toApprovalDecision(args[0]);
        if (!decision) return;
        const at = requestTime(
          { reason: '', requested_by: '', requested_at: decision.requested_at },
          new Date(),
        );
        if (!approvalGate.decide(decision, at)) return;
        // A rejection cancels the task (recorded with the decision); the API requests the
        // cancellation that ends it.
        const by = decision.requested_by;
        if (decision.approved || !gate.cancel(rejectedReason(decision.feedback), by, at, false)) {
          record(at);
        }
      }
    }),
  );
  setHandler(controlStateQuery, () => publicControlState(gate.control));

  const checkpoint = async (name: string): Promise<void> => {
    recordProgress({ checkpoint: name });
    // A gated checkpoint waits for its decision, then (paused meanwhile) for a resume as well.
    await approvalGate.pass(name);
    await gate.pass(
      () => recordProgress({ waiting: true }),
      () => recordProgress({ waiting: false }),
    );
  };

  // Only tasks submitted with a webhook make this command: histories without one replay as before.
  const deliveries = task.webhook && startWebhookDeliveries(task.webhook);

  try {
    return await work.run(async () => {
      await checkpoint('pre_planning');
      const version = { result_version: ACTIVITY_RESULT_VERSION };
      // Results are normalized: histories from before result objects hold plain values.
      const { steps: plan } = reported(toPlanResult(await planTask({ ...task, ...version })));
      recordProgress({ steps_total: plan.length });
      const outputs: string[] = [];
      for (const [index, description] of plan.entries()) {
        await checkpoint(checkpointBeforeStep(index));
        const step = { task, step: index + 1, total: plan.length, description };
        const { output } = reported(
          toStepResult(await runStep({ ...step, previous_outputs: outputs.slice(), ...version })),
        );
        outputs.push(output);
        recordProgress({ steps_done: index + 1 });
      }
      await checkpoint('pre_synthesis');
      const synthesis = reported(
        toSynthesisResult(await synthesizeResult({ task, outputs, ...version })),
      );
      await checkpoint('pre_completion');
      return synthesis.result;
    });
  } catch (err) {
    // A pause deadline with `fail` ends the task so, whatever it interrupted.
    if (gate.failure) throw gate.failure;
    if (isCancellation(err)) {
      // upsertMemo only queues a command, so cancellation cannot interrupt this bookkeeping.
      recordProgress({ cancelled: true });
      const settling = gate.settle();
      if (settling) await settling;
      throw err;
    }
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      // Report the step's own message as the task's error, not "Activity task failed".
      throw ApplicationFailure.nonRetryable(err.cause.message, err.cause.type ?? undefined);
    }
    throw err;
  } finally {
    if (deliveries) await deliveries;
  }
}
