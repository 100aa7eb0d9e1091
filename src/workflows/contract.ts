/**
 * The Temporal contract shared by the API and the workers: workflow type, signals, query,
 * memo keys and the control-state rules. Both sides import this file, so it must stay free of
 * NestJS and Node built-ins (it is bundled into the workflow sandbox).
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, type Sinks } from '@temporalio/workflow';
import type { ApprovalSpec } from './approval-contract';
import type { WebhookSpec } from './webhook-contract';

export const TASK_WORKFLOW_TYPE = 'taskWorkflow';

export const TASK_MODES = ['simple', 'standard', 'complex', 'supervisor'] as const;
export type TaskMode = (typeof TASK_MODES)[number];

export const MODEL_TIERS = ['small', 'medium', 'large'] as const;
export type ModelTier = (typeof MODEL_TIERS)[number];

/** The workflow's single argument. */
export interface TaskInput {
  query: string;
  session_id: string;
  tenant_id: string;
  user_id: string;
  mode?: TaskMode;
  model_tier?: ModelTier;
  context: Record<string, unknown>;
  /** Present when the task's events are to be POSTed to a URL (its delivery workflow does). */
  webhook?: WebhookSpec;
  /** Present when checkpoints wait for a person's decision. */
  approval?: ApprovalSpec;
}

/** What a pause deadline does when it passes while the task is still paused. */
export const ON_TIMEOUT_POLICIES = ['resume', 'cancel', 'fail'] as const;
export type OnTimeout = (typeof ON_TIMEOUT_POLICIES)[number];

/** The longest pause deadline: a week. */
export const MAX_PAUSE_TIMEOUT_SECONDS = 604_800;

/** Who acts when the workflow acts by itself (a pause deadline), and why. */
export const SYSTEM_ACTOR = 'system';
export const PAUSE_TIMED_OUT = 'pause timed out';

/**
 * Who asked for an action and under which request, recorded in the task's history with the
 * action itself (the audit trail). Absent fields read as "".
 */
export interface ActionOrigin {
  /** The name of the API key used; never the key. */
  key_name?: string;
  /** The `X-Request-ID` of the request. */
  request_id?: string;
  /** The W3C trace id the request ran under. */
  trace_id?: string;
  /** Set when the action was one task of a batch. */
  batch_id?: string;
}

/**
 * Payload of every control signal. `requested_by` names a principal, never a key.
 * `requested_at` (RFC 3339) is when the API accepted the request: the workflow, the API's reads
 * and its record of recent decisions all take `paused_at` (and a pause deadline) from it, so
 * they agree to the millisecond. Senders that leave it out get the time the signal was recorded
 * or applied. A pause may carry a deadline: `timeout_seconds` after `requested_at`.
 */
export interface ControlRequest extends ActionOrigin {
  reason: string;
  requested_by: string;
  requested_at?: string;
  timeout_seconds?: number;
  /** With `timeout_seconds` only; `resume` when left out. */
  on_timeout?: OnTimeout;
}

export const PAUSE_SIGNAL = 'pause_v1';
export const RESUME_SIGNAL = 'resume_v1';
export const CANCEL_SIGNAL = 'cancel_v1';
export type ControlSignalName = typeof PAUSE_SIGNAL | typeof RESUME_SIGNAL | typeof CANCEL_SIGNAL;

export interface ControlState {
  is_paused: boolean;
  is_cancelled: boolean;
  /** RFC 3339, or "" when not paused. */
  paused_at: string;
  pause_reason: string;
  paused_by: string;
  cancel_reason: string;
  cancelled_by: string;
  /** RFC 3339: when a pause with a deadline ends by its policy; "" without one. */
  pause_deadline: string;
  /** What the deadline does; "" without one. */
  on_timeout: OnTimeout | '';
}

/**
 * The control state as the workflow keeps it in its memo and the API folds it from history:
 * the public fields plus bookkeeping that lets a reader start from any recorded point.
 */
export interface ControlRecord extends ControlState {
  /**
   * Effective transitions so far: one more for every signal that changed the state, and for
   * every change the workflow made by itself (a pause deadline).
   */
  version: number;
  /** Set on cancel: whether the task was paused at that moment. */
  was_paused: boolean;
  /**
   * Set by the transition a pause deadline made (to the policy it applied), cleared by the next
   * one: a record whose version moved past every signal and carries this was the workflow's own.
   */
  timed_out?: OnTimeout;
}

export const controlStateQuery = defineQuery<ControlState>('control_state_v1');

/**
 * A note from the workflow to whoever follows tasks that one just changed (its activation issued
 * commands: a state record, an activity, the close). Called by the workflow, run by the worker
 * outside history and never during replay; the worker publishes it on `taskChangedChannel`
 * when it shares Redis with the API. Only a hint: readers still read the history.
 */
export interface TaskNoticeSinks extends Sinks {
  taskNotices: { changed(): void };
}

/** The Redis channel on which a task's change notices are published. */
export const taskChangedChannel = (taskId: string): string => `task-api:changed:${taskId}`;
/**
 * A change notice from a worker: the task's workflow just changed something. The worker sends
 * it as it answers Temporal, so Temporal writes the change a moment later.
 */
export const CHANGED_NOTICE = '1';
/** A change notice from an API instance: a decision it made is in the task's history already. */
export const WRITTEN_NOTICE = 'written';
/**
 * A notice sent on the same channel by a step that streams text (the first time it reports
 * some): its live text is worth reading. Steps that never stream send none.
 */
export const STREAMING_NOTICE = 'streaming';

/** Temporal header carrying the W3C trace context of the request behind a start or signal. */
export const TRACEPARENT_HEADER = 'traceparent';

/** Memo keys written at start by the API. */
export const MEMO_TENANT_ID = 'tenant_id';
export const MEMO_USER_ID = 'user_id';
export const MEMO_SESSION_ID = 'session_id';
export const MEMO_QUERY = 'query';
export const MEMO_MODE = 'mode';
export const MEMO_CONTEXT = 'context';
export const MEMO_REQUEST_HASH = 'request_hash';
/** The task's webhook (WebhookSpec), when it has one. */
export const MEMO_WEBHOOK = 'webhook';
/**
 * The task's approvals (ApprovalsRecord), kept up to date with the rest of the state by tasks
 * that have approval gates.
 */
export const MEMO_APPROVALS = 'approvals';
/** The task's approval gates (ApprovalSpec), when it has any. */
export const MEMO_APPROVAL = 'approval';
/** Who submitted the task: key name, request id, trace id (an ActionOrigin). */
export const MEMO_SUBMITTED = 'submitted';
/**
 * Memo keys the workflow keeps up to date with `upsertMemo`, readable without a worker. Every
 * upsert writes all three, so any one of them in history tells the whole state at that point.
 */
export const MEMO_CONTROL = 'control';
export const MEMO_PROGRESS = 'progress';
/** RFC 3339: when the workflow last recorded a change (the request time for a signal). */
export const MEMO_UPDATED_AT = 'updated_at';
/**
 * How many task events the task has up to this record: the events a fold of the history from
 * its first event emits up to and including the upsert that wrote it (see task-event-count.ts).
 * Written with every record by workflows since it was added; a reader can number the events
 * after any such record without reading what came before it.
 */
export const MEMO_TASK_EVENTS = 'task_events';

/** A task-event count read back from a memo; undefined when absent or not a count. */
export const toTaskEventCount = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;

/**
 * Search attributes, for listing. The API registers them when missing. `TaskStatus` is kept by
 * the workflow: absent until a worker picks the task up, then RUNNING or PAUSED.
 */
export const TENANT_ID_ATTRIBUTE = defineSearchAttributeKey(
  'TenantId',
  SearchAttributeType.KEYWORD,
);
export const SESSION_ID_ATTRIBUTE = defineSearchAttributeKey(
  'SessionId',
  SearchAttributeType.KEYWORD,
);
export const TASK_STATUS_ATTRIBUTE = defineSearchAttributeKey(
  'TaskStatus',
  SearchAttributeType.KEYWORD,
);
export const SEARCH_ATTRIBUTES = [TENANT_ID_ATTRIBUTE, SESSION_ID_ATTRIBUTE, TASK_STATUS_ATTRIBUTE];

/**
 * Memo and search attributes a task's workflow starts with: what the API, or any other client
 * of this contract, records so tasks can be found, listed and owned.
 */
export function taskStartRecord(task: TaskInput, requestHash: string, origin?: ActionOrigin) {
  return {
    memo: {
      [MEMO_TENANT_ID]: task.tenant_id,
      [MEMO_USER_ID]: task.user_id,
      [MEMO_SESSION_ID]: task.session_id,
      [MEMO_QUERY]: task.query,
      [MEMO_MODE]: task.mode,
      [MEMO_CONTEXT]: task.context,
      [MEMO_REQUEST_HASH]: requestHash,
      ...(origin && { [MEMO_SUBMITTED]: origin }),
      ...(task.webhook && { [MEMO_WEBHOOK]: task.webhook }),
      ...(task.approval && { [MEMO_APPROVAL]: task.approval }),
    },
    searchAttributes: [
      { key: TENANT_ID_ATTRIBUTE, value: task.tenant_id },
      { key: SESSION_ID_ATTRIBUTE, value: task.session_id },
    ],
  };
}

/** Where the workflow stands, as recorded in its memo. */
export interface TaskProgress {
  checkpoint: string;
  /** Steps finished so far. */
  steps_done: number;
  steps_total: number;
  /** True while the workflow waits at `checkpoint` because of a pause. */
  waiting: boolean;
  /** Set once when the task is cancelled; `waiting` then tells whether it was paused. */
  cancelled: boolean;
}

export const initialControlState = (): ControlRecord => ({
  is_paused: false,
  is_cancelled: false,
  paused_at: '',
  pause_reason: '',
  paused_by: '',
  cancel_reason: '',
  cancelled_by: '',
  pause_deadline: '',
  on_timeout: '',
  version: 0,
  was_paused: false,
});

/** The public fields of a control record, as control-state and the query answer them. */
export const publicControlState = (record: ControlState): ControlState => ({
  is_paused: record.is_paused,
  is_cancelled: record.is_cancelled,
  paused_at: record.paused_at,
  pause_reason: record.pause_reason,
  paused_by: record.paused_by,
  cancel_reason: record.cancel_reason,
  cancelled_by: record.cancelled_by,
  pause_deadline: record.pause_deadline,
  on_timeout: record.on_timeout,
});

const isOnTimeout = (value: unknown): value is OnTimeout =>
  (ON_TIMEOUT_POLICIES as readonly unknown[]).includes(value);

/**
 * A control record read back from a memo, or undefined when it is not one: tasks started before
 * records carried a version kept only the public fields, and a reader then folds from signals.
 */
export function toControlRecord(value: unknown): ControlRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<ControlRecord>;
  if (typeof v.version !== 'number') return undefined;
  const record: ControlRecord = {
    ...initialControlState(),
    ...publicControlState({ ...initialControlState(), ...v }),
    // Records of tasks from before deadlines have none.
    pause_deadline: typeof v.pause_deadline === 'string' ? v.pause_deadline : '',
    on_timeout: isOnTimeout(v.on_timeout) ? v.on_timeout : '',
    version: v.version,
    was_paused: v.was_paused === true,
  };
  if (isOnTimeout(v.timed_out)) record.timed_out = v.timed_out;
  return record;
}

/** When a request was made: its own `requested_at` when well-formed, `fallback` otherwise. */
export function requestTime(request: ControlRequest, fallback: Date): Date {
  const at = request.requested_at ? new Date(request.requested_at) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : fallback;
}

/**
 * The one rule for how a control signal changes the control state. The workflow applies it as
 * signals arrive; the API applies it to the signals recorded in the workflow's history. Both
 * therefore agree, including on signals no worker has processed yet.
 */
export function applyControlSignal(
  state: ControlRecord,
  signal: ControlSignalName,
  request: ControlRequest,
  at: Date,
): ControlRecord {
  if (state.is_cancelled) return state;
  const version = state.version + 1;
  switch (signal) {
    case PAUSE_SIGNAL: {
      if (state.is_paused) return state;
      const deadline = pauseDeadline(request, at);
      return {
        ...unpaused(state),
        is_paused: true,
        paused_at: at.toISOString(),
        pause_reason: request.reason,
        paused_by: request.requested_by,
        pause_deadline: deadline?.at.toISOString() ?? '',
        on_timeout: deadline?.onTimeout ?? '',
        version,
      };
    }
    case RESUME_SIGNAL:
      if (!state.is_paused) return state;
      return { ...unpaused(state), version };
    case CANCEL_SIGNAL:
      return cancelled(state, request.reason, request.requested_by, version);
  }
}

/**
 * The one rule for a pause deadline that passed: the change the workflow makes by itself when
 * the task is still paused by the pause that set it. Unchanged otherwise.
 */
export function applyPauseTimeout(state: ControlRecord): ControlRecord {
  if (state.is_cancelled || !state.is_paused || !state.on_timeout) return state;
  const version = state.version + 1;
  switch (state.on_timeout) {
    case 'resume':
    case 'fail':
      return { ...unpaused(state), version, timed_out: state.on_timeout };
    case 'cancel':
      return {
        ...cancelled(state, PAUSE_TIMED_OUT, SYSTEM_ACTOR, version),
        timed_out: 'cancel',
      };
  }
}

/** The state without a pause (nor the mark of the last deadline). */
export function unpaused(state: ControlRecord): ControlRecord {
  const next: ControlRecord = {
    ...state,
    is_paused: false,
    paused_at: '',
    pause_reason: '',
    paused_by: '',
    pause_deadline: '',
    on_timeout: '',
  };
  delete next.timed_out;
  return next;
}

function cancelled(
  state: ControlRecord,
  reason: string,
  by: string,
  version: number,
): ControlRecord {
  return {
    ...initialControlState(),
    is_cancelled: true,
    cancel_reason: reason,
    cancelled_by: by,
    version,
    was_paused: state.is_paused,
  };
}

/** A pause's deadline, when its request sets one. */
function pauseDeadline(
  request: ControlRequest,
  at: Date,
): { at: Date; onTimeout: OnTimeout } | undefined {
  const seconds = request.timeout_seconds;
  if (seconds === undefined) return undefined;
  return { at: new Date(at.getTime() + seconds * 1000), onTimeout: request.on_timeout ?? 'resume' };
}

const isTimeoutSeconds = (value: unknown): value is number =>
  typeof value === 'number' &&
  Number.isInteger(value) &&
  value >= 1 &&
  value <= MAX_PAUSE_TIMEOUT_SECONDS;

/** The origin fields of a payload or memo: strings only, absent otherwise. */
export function toActionOrigin(value: unknown): ActionOrigin {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const origin: ActionOrigin = {};
  for (const key of ['key_name', 'request_id', 'trace_id', 'batch_id'] as const) {
    if (typeof v[key] === 'string') origin[key] = v[key];
  }
  return origin;
}

/** Accepts only well-formed signal payloads; anything else counts as an empty request. */
export function toControlRequest(value: unknown): ControlRequest {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const deadline = isTimeoutSeconds(v.timeout_seconds) ? v.timeout_seconds : undefined;
  return {
    reason: typeof v.reason === 'string' ? v.reason : '',
    requested_by: typeof v.requested_by === 'string' ? v.requested_by : '',
    ...(typeof v.requested_at === 'string' && { requested_at: v.requested_at }),
    ...toActionOrigin(v),
    ...(deadline !== undefined && {
      timeout_seconds: deadline,
      ...(isOnTimeout(v.on_timeout) && { on_timeout: v.on_timeout }),
    }),
  };
}

export const isControlSignalName = (name: string): name is ControlSignalName =>
  name === PAUSE_SIGNAL || name === RESUME_SIGNAL || name === CANCEL_SIGNAL;

export const checkpointBeforeStep = (index: number): string => `pre_step_${index + 1}`;

/** Tokens a model server counted, as the status reports them (summed over a task's calls). */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

/** What one phase's call may report about the model behind it; executors without one say nothing. */
export interface ModelReport {
  /** Who served the call, e.g. `openai`. */
  provider?: string;
  /** The model that answered. */
  model?: string;
  usage?: TokenUsage;
}

/** The results of the three phases, as the activities return them to the workflow. */
export interface PlanResult extends ModelReport {
  steps: string[];
}
export interface StepResult extends ModelReport {
  output: string;
}
export interface SynthesisResult extends ModelReport {
  result: string;
}

/**
 * Activity inputs carry this so an activity answers with the result objects above. Workflow code
 * from before them sends no version and gets the plain values it expects (`string[]`, `string`),
 * so workers of both versions can share a task queue during a rolling update.
 */
export const ACTIVITY_RESULT_VERSION = 2;

/** The activity type of a step (the `runStep` activity of TaskActivities). */
export const STEP_ACTIVITY_TYPE = 'runStep';

/**
 * Heartbeat details of a running step. `text` is the output so far, present only when the
 * executor streams it: the API turns what is new into live `LLM_PARTIAL` events.
 */
export interface StepHeartbeat {
  step: number;
  text?: string;
}

/**
 * Memo key: the model, provider and token usage summed over the task's calls so far, written
 * with every `record()` of the workflow once an executor reported any. Absent otherwise.
 */
export const MEMO_MODEL_USAGE = 'model_usage';
export interface ModelUsageRecord {
  provider?: string;
  model_used?: string;
  usage?: TokenUsage;
}

const tokens = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : 0;

/** A usage object read back from a memo or a result; undefined when it is not one. */
function toTokenUsage(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.input_tokens === undefined && v.output_tokens === undefined) return undefined;
  const input_tokens = tokens(v.input_tokens);
  const output_tokens = tokens(v.output_tokens);
  const total = tokens(v.total_tokens);
  return { input_tokens, output_tokens, total_tokens: total || input_tokens + output_tokens };
}

/** A model usage record read back from a memo; undefined when absent or not one. */
export function toModelUsageRecord(value: unknown): ModelUsageRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const record: ModelUsageRecord = {
    ...(typeof v.provider === 'string' && { provider: v.provider }),
    ...(typeof v.model_used === 'string' && { model_used: v.model_used }),
  };
  const usage = toTokenUsage(v.usage);
  if (usage) record.usage = usage;
  return Object.keys(record).length > 0 ? record : undefined;
}

/** The record after one more call: usage summed, the latest model and provider kept. */
export function addModelReport(
  record: ModelUsageRecord | undefined,
  report: ModelReport,
): ModelUsageRecord | undefined {
  const usage = toTokenUsage(report.usage);
  if (!report.provider && !report.model && !usage) return record;
  const sum = record?.usage;
  return {
    ...record,
    ...(report.provider && { provider: report.provider }),
    ...(report.model && { model_used: report.model }),
    ...(usage && {
      usage: {
        input_tokens: (sum?.input_tokens ?? 0) + usage.input_tokens,
        output_tokens: (sum?.output_tokens ?? 0) + usage.output_tokens,
        total_tokens: (sum?.total_tokens ?? 0) + usage.total_tokens,
      },
    }),
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A plan as an activity returned it: histories from before result objects hold `string[]`. */
export const toPlanResult = (value: unknown): PlanResult =>
  Array.isArray(value) ? { steps: value as string[] } : (value as PlanResult);

/** A step's result as an activity returned it: histories from before result objects hold a string. */
export const toStepResult = (value: unknown): StepResult =>
  isObject(value) ? (value as unknown as StepResult) : { output: String(value) };

/** A synthesis as an activity returned it: histories from before result objects hold a string. */
export const toSynthesisResult = (value: unknown): SynthesisResult =>
  isObject(value) ? (value as unknown as SynthesisResult) : { result: String(value) };
