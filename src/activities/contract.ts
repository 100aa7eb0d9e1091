/**
 * The executor interface and the activities built on it. The activities' signatures and inputs
 * are the workflow's (../workflows/activity-contract); this side implements them.
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { StepInput, SynthesisInput, TaskActivities } from '../workflows/activity-contract';
import type {
  PlanResult,
  StepHeartbeat,
  StepResult,
  SynthesisResult,
  TaskInput,
} from '../workflows/contract';
import { continueTrace, formatTraceparent } from '../common/request-context';
import { currentTraceparent } from '../temporal/activity-trace';

export type { StepInput, SynthesisInput } from '../workflows/activity-contract';
export type {
  PlanResult,
  StepResult,
  SynthesisResult,
  TaskInput,
  TokenUsage,
} from '../workflows/contract';

export type Phase = 'plan' | 'step' | 'synthesize';

/** What an executor knows about the call it is making, besides its input. */
export interface PhaseContext {
  readonly taskId: string;
  readonly phase: Phase;
  /** 1 on the first try; Temporal retries a failed call with the same input. */
  readonly attempt: number;
  /** `<task_id>:<phase>:<step>` (step 0 for plan and synthesize): the same on every retry. */
  readonly idempotencyKey: string;
  /** W3C trace context of the request that submitted the task (a new trace when it had none). */
  readonly traceparent: string;
  /**
   * Aborts when the call must stop: the task was cancelled, or this worker is shutting down
   * (Temporal then retries the call elsewhere). Hand it to whatever waits.
   */
  readonly signal: AbortSignal;
  /**
   * The text a step has produced so far; while a step runs, event streams send what is new as
   * `LLM_PARTIAL`. Call it with '' as soon as a step is known to stream, so streams start
   * watching. Heartbeats are sent for every call, every second, without this.
   */
  partialOutput(text: string): void;
}

/**
 * The work behind each phase of a task, chosen by the worker's `TASK_EXECUTOR`. What a call
 * throws is retried by Temporal with backoff, unless it is an `ApplicationFailure` marked
 * non-retryable (from @temporalio/common), or any error with `nonRetryable: true` (for modules
 * that do not depend on Temporal): then the task ends FAILED with the error's message.
 */
export interface TaskExecutor {
  plan(task: TaskInput, ctx: PhaseContext): Promise<PlanResult>;
  runStep(input: StepInput, ctx: PhaseContext): Promise<StepResult>;
  synthesize(input: SynthesisInput, ctx: PhaseContext): Promise<SynthesisResult>;
}

/** How often every call heartbeats: cancellation reaches a call with a heartbeat's answer. */
const HEARTBEAT_EVERY_MS = 1000;
/** Partial text beyond this is not heartbeated (the step's output still holds all of it). */
export const MAX_PARTIAL_CHARS = 256 * 1024;
const MAX_STEPS = 50;

/** What the worker around the activities does for them. */
export interface ActivityHooks {
  /**
   * A step of the task began streaming text (its first partialOutput of this call): event
   * streams that follow it through change notices start reading its live text.
   */
  streaming?(taskId: string): void;
}

/**
 * Runs one call of an executor inside its activity: heartbeats every second (with the partial
 * text of a step), gives the call the activity's cancellation, and reports a cancelled call as
 * cancelled whatever error the aborted call threw.
 */
async function call<T>(
  phase: Phase,
  step: number,
  run: (ctx: PhaseContext) => Promise<T>,
  hooks: ActivityHooks,
): Promise<T> {
  const activity = Context.current();
  // Always set for activities a workflow scheduled (the only kind this worker runs).
  const taskId = activity.info.workflowExecution?.workflowId ?? '';
  let details: StepHeartbeat | { phase: Phase } = phase === 'step' ? { step } : { phase };
  const beat = (): void => activity.heartbeat(details);
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  const ctx: PhaseContext = {
    taskId,
    phase,
    attempt: activity.info.attempt,
    idempotencyKey: `${taskId}:${phase}:${step}`,
    traceparent: currentTraceparent() ?? formatTraceparent(continueTrace(undefined)),
    signal: activity.cancellationSignal,
    partialOutput: (text: string) => {
      if (phase !== 'step' || text.length > MAX_PARTIAL_CHARS) return;
      if (!('text' in details)) hooks.streaming?.(taskId);
      details = { step, text };
      beat();
    },
  };
  try {
    return await run(ctx);
  } catch (err) {
    if (activity.cancellationSignal.aborted) {
      const reason: unknown = activity.cancellationSignal.reason;
      throw reason instanceof CancelledFailure ? reason : new CancelledFailure(String(reason));
    }
    if (
      err instanceof Error &&
      !(err instanceof ApplicationFailure) &&
      (err as { nonRetryable?: unknown }).nonRetryable === true
    ) {
      throw ApplicationFailure.nonRetryable(err.message, err.name);
    }
    throw err;
  } finally {
    clearInterval(timer);
  }
}

const isText = (value: unknown): value is string => typeof value === 'string';

/** An executor's answer that breaks the contract ends the task: retrying would not mend it. */
function badResult(phase: Phase, expected: string): never {
  throw ApplicationFailure.nonRetryable(
    `The executor's ${phase} returned no ${expected}`,
    'ExecutorContractViolation',
  );
}

function checkPlan(result: PlanResult): PlanResult {
  const steps: unknown = result?.steps;
  if (
    !Array.isArray(steps) ||
    steps.length < 1 ||
    steps.length > MAX_STEPS ||
    !steps.every(isText)
  ) {
    badResult('plan', `{ steps } with 1 to ${MAX_STEPS} strings`);
  }
  return result;
}

function checkStep(result: StepResult): StepResult {
  if (!isText(result?.output)) badResult('step', '{ output } string');
  return result;
}

function checkSynthesis(result: SynthesisResult): SynthesisResult {
  if (!isText(result?.result)) badResult('synthesize', '{ result } string');
  return result;
}

export const createTaskActivities = (
  executor: TaskExecutor,
  hooks: ActivityHooks = {},
): TaskActivities => ({
  async planTask({ result_version, ...task }) {
    const result = checkPlan(await call('plan', 0, (ctx) => executor.plan(task, ctx), hooks));
    return result_version ? result : result.steps;
  },
  async runStep({ result_version, previous_outputs = [], ...input }) {
    const result = checkStep(
      await call(
        'step',
        input.step,
        (ctx) => executor.runStep({ ...input, previous_outputs }, ctx),
        hooks,
      ),
    );
    return result_version ? result : result.output;
  },
  async synthesizeResult({ result_version, ...input }) {
    const result = checkSynthesis(
      await call('synthesize', 0, (ctx) => executor.synthesize(input, ctx), hooks),
    );
    return result_version ? result : result.result;
  },
});
