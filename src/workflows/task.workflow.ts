import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setDefaultSignalHandler,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities, TaskActivities } from './activity-contract';
import {
  ACTIVITY_RESULT_VERSION,
  MEMO_CONTROL,
  MEMO_MODEL_USAGE,
  MEMO_PROGRESS,
  MEMO_UPDATED_AT,
  ModelReport,
  ModelUsageRecord,
  TASK_STATUS_ATTRIBUTE,
  TaskInput,
  TaskProgress,
  addModelReport,
  checkpointBeforeStep,
  controlStateQuery,
  isControlSignalName,
  publicControlState,
  toControlRequest,
  toPlanResult,
  toStepResult,
  toSynthesisResult,
} from './contract';
import { ControlGate } from './control-gate';

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

  // The memo is readable through describe() and history without a worker; the query needs one.
  // Each change writes the whole state, so a reader can start from any upsert in the history.
  const record = (at: Date): void =>
    upsertMemo({
      [MEMO_CONTROL]: gate.control,
      [MEMO_PROGRESS]: progress,
      [MEMO_UPDATED_AT]: at.toISOString(),
      ...(modelUsage && { [MEMO_MODEL_USAGE]: modelUsage }),
    });
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
  // One handler for every control signal, in the order Temporal recorded them. Separate
  // setHandler calls would each deliver their own buffered signals as they are registered, so a
  // pause, resume, pause sent before the first workflow task would arrive as pause, pause,
  // resume: the API's fold of the history and the workflow would disagree.
  setDefaultSignalHandler((name: string, ...args: unknown[]): void => {
    if (isControlSignalName(name)) gate.signal(name, toControlRequest(args[0]));
  });
  setHandler(controlStateQuery, () => publicControlState(gate.control));

  const checkpoint = async (name: string): Promise<void> => {
    recordProgress({ checkpoint: name });
    await gate.pass(
      () => recordProgress({ waiting: true }),
      () => recordProgress({ waiting: false }),
    );
  };

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
  }
}
