import { defaultPayloadConverter, mapFromPayloads, type Payload } from '@temporalio/common';
import type { HistoryEvent } from '../temporal/task-workflow.gateway';
import {
  ActionOrigin,
  CANCEL_SIGNAL,
  ControlRecord,
  MEMO_APPROVAL,
  MEMO_APPROVALS,
  MEMO_CONTEXT,
  MEMO_CONTROL,
  MEMO_MODEL_USAGE,
  MEMO_MODE,
  MEMO_PROGRESS,
  MEMO_WEBHOOK,
  MEMO_QUERY,
  MEMO_REQUEST_HASH,
  MEMO_SESSION_ID,
  MEMO_SUBMITTED,
  MEMO_TASK_EVENTS,
  MEMO_TENANT_ID,
  MEMO_UPDATED_AT,
  MEMO_USER_ID,
  PAUSE_SIGNAL,
  PAUSE_TIMED_OUT,
  RESUME_SIGNAL,
  SYSTEM_ACTOR,
  STEP_ACTIVITY_TYPE,
  ModelUsageRecord,
  TaskProgress,
  ControlRequest,
  ControlSignalName,
  applyControlSignal,
  isControlSignalName,
  requestTime,
  toActionOrigin,
  toControlRecord,
  toControlRequest,
  toModelUsageRecord,
  toStepResult,
  toTaskEventCount,
  unpaused,
} from '../workflows/contract';
import { readRecord } from '../workflows/recorded-change';
import {
  APPROVAL_SIGNAL,
  APPROVAL_TIMED_OUT,
  ApprovalRecord,
  ApprovalsRecord,
  applyApprovalDecision,
  initialApprovals,
  rejectedReason,
  toApprovalDecision,
  toApprovalsRecord,
} from '../workflows/approval-contract';
import { type WebhookSpec, toWebhookSpec } from '../workflows/webhook-contract';
import type { TaskAction, TaskActionName } from './task-action';
import type { TaskEvent } from './task-event';
import type { TaskStatus, TerminalStatus } from './task-status';

/** Everything the API knows about a task, derived from Temporal alone. */
export interface TaskSnapshot {
  taskId: string;
  /** The workflow run it was read from. */
  runId: string;
  tenantId: string;
  userId: string;
  sessionId: string;
  query: string;
  mode: string;
  context: Record<string, unknown>;
  requestHash: string;
  createdAt: Date;
  /** The last recorded change: a control request, a step of progress, the close. */
  updatedAt: Date;
  /** Set once the task is closed. */
  closedAt?: Date;
  terminal?: TerminalStatus;
  /** Whether a worker has taken the task up. */
  started: boolean;
  /** Includes control signals Temporal accepted that no worker has processed yet. */
  control: ControlRecord;
  progress?: TaskProgress;
  /** Model, provider and summed token usage, for executors that report them. */
  model?: ModelUsageRecord;
  /** Where the task's events are POSTed, when it was submitted with a webhook. */
  webhook?: WebhookSpec;
  /** Tasks with approval gates: their approvals so far (none before the first request). */
  approvals?: ApprovalsRecord;
  /**
   * How many task events the task had as of the workflow's last record, when the workflow
   * counts them (MEMO_TASK_EVENTS; tasks started by older code have none).
   */
  taskEvents?: number;
  result: string;
  error: string;
}

const decode = (payloads: Payload[] | null | undefined): unknown =>
  payloads?.[0] ? defaultPayloadConverter.fromPayload(payloads[0]) : undefined;

const asString = (value: unknown): string => (typeof value === 'string' ? value : '');

const asObject = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

const asDate = (value: unknown): Date | undefined => {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
};

/** An event's time; its seconds arrive as a Long from the client, a number or string from JSON. */
function eventTime({ eventTime: time }: HistoryEvent): Date {
  if (!time) return new Date(0);
  return new Date(Number(String(time.seconds ?? 0)) * 1000 + Math.floor((time.nanos ?? 0) / 1e6));
}

const withReason = (verb: string, reason: string): string => (reason ? `${verb}: ${reason}` : verb);

/**
 * A task as its memo tells it: the start record the API wrote, and the state the workflow kept
 * as of its last completed workflow task. Undefined for a workflow that is not one of our tasks.
 */
export function snapshotFromMemo(
  taskId: string,
  runId: string,
  memo: Record<string, unknown>,
  createdAt: Date,
): TaskSnapshot | undefined {
  const tenantId = asString(memo[MEMO_TENANT_ID]);
  if (!tenantId) return undefined;
  const progress = memo[MEMO_PROGRESS] as TaskProgress | undefined;
  return {
    taskId,
    runId,
    tenantId,
    userId: asString(memo[MEMO_USER_ID]),
    sessionId: asString(memo[MEMO_SESSION_ID]),
    query: asString(memo[MEMO_QUERY]),
    mode: asString(memo[MEMO_MODE]),
    context: asObject(memo[MEMO_CONTEXT]),
    requestHash: asString(memo[MEMO_REQUEST_HASH]),
    createdAt,
    updatedAt: asDate(memo[MEMO_UPDATED_AT]) ?? createdAt,
    started: progress !== undefined,
    control: controlFromMemo(memo[MEMO_CONTROL]),
    progress,
    model: toModelUsageRecord(memo[MEMO_MODEL_USAGE]),
    webhook: toWebhookSpec(memo[MEMO_WEBHOOK]),
    approvals:
      toApprovalsRecord(memo[MEMO_APPROVALS]) ??
      (memo[MEMO_APPROVAL] !== undefined ? initialApprovals() : undefined),
    taskEvents: toTaskEventCount(memo[MEMO_TASK_EVENTS]),
    result: '',
    error: '',
  };
}

/** A memo's control record; tasks started before records had a version kept the public fields. */
function controlFromMemo(value: unknown): ControlRecord {
  return toControlRecord(value) ?? toControlRecord({ ...asObject(value), version: 0 })!;
}

/**
 * The whole state a memo upsert recorded, when it recorded all of it (tasks started before the
 * workflow wrote every key with each change recorded only the key that changed), with the
 * number of task events up to it when the workflow counted them.
 */
export function recordedState(
  event: HistoryEvent,
):
  | Pick<TaskSnapshot, 'control' | 'progress' | 'updatedAt' | 'model' | 'approvals' | 'taskEvents'>
  | undefined {
  const fields = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields;
  if (!fields) return undefined;
  const memo = mapFromPayloads(defaultPayloadConverter, fields) ?? {};
  const control = toControlRecord(memo[MEMO_CONTROL]);
  const progress = memo[MEMO_PROGRESS] as TaskProgress | undefined;
  const updatedAt = asDate(memo[MEMO_UPDATED_AT]);
  // Model usage is written with every record once there is any: absent means none yet.
  const model = toModelUsageRecord(memo[MEMO_MODEL_USAGE]);
  // Likewise approvals, for tasks with gates.
  const approvals = toApprovalsRecord(memo[MEMO_APPROVALS]);
  const taskEvents = toTaskEventCount(memo[MEMO_TASK_EVENTS]);
  return control && progress && updatedAt
    ? { control, progress, updatedAt, model, approvals, taskEvents }
    : undefined;
}

/** The end of a workflow task: the memo holds the state the workflow reached in it. */
export const isWorkflowTaskCompleted = (event: HistoryEvent): boolean =>
  !!event.workflowTaskCompletedEventAttributes;

/**
 * Folds a task's workflow history, one event at a time, into its snapshot and its stream of
 * task events. Every task event comes from exactly one history event and takes its ID as `seq`,
 * so the events of a task are the same, with the same ids, for every reader at any time.
 *
 * A fold starts either at the first event, or from a snapshot known to hold at some point of
 * the history (the memo as of a completed workflow task) and continues with the events after it.
 */
export class TaskHistoryFold {
  private current?: TaskSnapshot;
  /** Set for a workflow that is not a task of this service (no tenant in its start memo). */
  private foreign = false;
  /**
   * The highest control version seen, from signals and records alike. A record past it holds a
   * change the workflow made by itself: signals are folded as Temporal writes them, before the
   * workflow task that applies them, and the workflow applies its own changes (deadlines) only
   * after every signal of its workflow task, so nothing else can move a record past it.
   */
  private knownVersion = 0;
  /** Told each accepted action (audit trail) as its history event is folded, while set. */
  onAction?: (action: TaskAction) => void;
  /**
   * Told each step's output as the step's activity completes, while set (live streams): not a
   * task event. Only steps scheduled within the events this fold has seen are known.
   */
  onStepOutput?: (step: number, output: string, eventId: number) => void;
  /** Step activities scheduled and not yet completed: scheduled event ID → step. */
  private readonly scheduledSteps = new Map<number, number>();

  constructor(
    private readonly taskId: string,
    private readonly runId = '',
    from?: TaskSnapshot,
  ) {
    this.current = from && { ...from };
    this.knownVersion = from?.control.version ?? 0;
  }

  /**
   * A fold that continues right after `anchor`, an event that recorded the task's whole state
   * (see recordedState); `task` gives what never changes (start record, creation time).
   */
  static after(anchor: HistoryEvent, task: TaskSnapshot): TaskHistoryFold {
    const state = recordedState(anchor);
    if (!state) throw new Error(`Event ${String(anchor.eventId)} records no whole task state`);
    return new TaskHistoryFold(task.taskId, task.runId, {
      ...task,
      ...state,
      started: true,
      terminal: undefined,
      closedAt: undefined,
      result: '',
      error: '',
    });
  }

  /** Undefined until the start event, and for a workflow that is not one of our tasks. */
  get snapshot(): TaskSnapshot | undefined {
    return this.foreign ? undefined : this.current;
  }

  /** Applies one history event; returns the task event it stands for, if any. */
  apply(event: HistoryEvent): TaskEvent | undefined {
    if (this.foreign) return undefined;
    const at = eventTime(event);
    const task = this.current;
    if (!task) {
      this.start(event, at);
      return this.current && this.emit(event, at, 'WORKFLOW_STARTED', 'Task started');
    }
    if (event.workflowExecutionStartedEventAttributes) {
      return this.emit(event, at, 'WORKFLOW_STARTED', 'Task started');
    }

    const signaled = event.workflowExecutionSignaledEventAttributes;
    if (signaled?.signalName === APPROVAL_SIGNAL) {
      return this.approvalDecided(event, at, decode(signaled.input?.payloads));
    }
    if (signaled?.signalName && isControlSignalName(signaled.signalName)) {
      const request = toControlRequest(decode(signaled.input?.payloads));
      const requestedAt = requestTime(request, at);
      const before = task.control;
      task.control = applyControlSignal(before, signaled.signalName, request, requestedAt);
      if (task.control === before) return undefined;
      this.knownVersion = Math.max(this.knownVersion, task.control.version);
      task.updatedAt = requestedAt;
      this.signalAction(signaled.signalName, request, requestedAt);
      const who = { reason: request.reason, requested_by: request.requested_by };
      switch (signaled.signalName) {
        case PAUSE_SIGNAL:
          return this.emit(
            event,
            at,
            'workflow.pausing',
            withReason('Pausing', request.reason),
            who,
          );
        case RESUME_SIGNAL:
          // A resume that withdraws a pause before it took effect continues from no checkpoint.
          return this.emit(event, at, 'workflow.resumed', withReason('Resuming', request.reason), {
            ...who,
            checkpoint: task.progress?.waiting ? task.progress.checkpoint : '',
          });
        case CANCEL_SIGNAL:
          return this.emit(
            event,
            at,
            'workflow.cancelling',
            withReason('Cancelling', request.reason),
            who,
          );
      }
    }
    if (event.workflowTaskStartedEventAttributes) {
      task.started = true;
      return undefined;
    }
    this.followSteps(event);
    const modified = event.workflowPropertiesModifiedEventAttributes;
    if (modified) return this.memoChanged(event, at, modified.upsertedMemo?.fields);

    const completed = event.workflowExecutionCompletedEventAttributes;
    if (completed) {
      this.close(at, 'COMPLETED');
      task.result = asString(decode(completed.result?.payloads));
      return this.emit(event, at, 'WORKFLOW_COMPLETED', 'Task completed', { result: task.result });
    }
    const failed = event.workflowExecutionFailedEventAttributes;
    if (failed) {
      this.close(at, 'FAILED');
      task.error = failed.failure?.message || 'Task failed';
      return this.emit(event, at, 'WORKFLOW_FAILED', 'Task failed', { error: task.error });
    }
    const terminated = event.workflowExecutionTerminatedEventAttributes;
    if (terminated) {
      this.close(at, 'FAILED');
      task.error = terminated.reason ? `Terminated: ${terminated.reason}` : 'Terminated';
      return this.emit(event, at, 'WORKFLOW_FAILED', 'Task failed', { error: task.error });
    }
    if (event.workflowExecutionTimedOutEventAttributes) {
      this.close(at, 'TIMEOUT');
      return this.emit(event, at, 'WORKFLOW_FAILED', 'Task timed out', { error: 'Task timed out' });
    }
    if (event.workflowExecutionCanceledEventAttributes) {
      this.close(at, 'CANCELLED');
      return this.emit(event, at, 'workflow.cancelled', 'Cancelled', {
        checkpoint: task.progress?.checkpoint ?? '',
        was_paused: task.control.was_paused || (task.progress?.waiting ?? false),
      });
    }
    return undefined;
  }

  /**
   * Follows step activities (cheaply: a map entry per running step). A step's activity is
   * scheduled right after the workflow recorded the checkpoint before it,
   * so it is step `steps_done + 1` of the progress folded so far.
   */
  private followSteps(event: HistoryEvent): void {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === STEP_ACTIVITY_TYPE && this.current?.progress) {
      this.scheduledSteps.set(Number(event.eventId), this.current.progress.steps_done + 1);
      return;
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (!completed) return;
    const scheduledId = Number(completed.scheduledEventId);
    const step = this.scheduledSteps.get(scheduledId);
    if (step === undefined) return;
    this.scheduledSteps.delete(scheduledId);
    // Decoded only for a live listener: a step's output can be long.
    if (!this.onStepOutput) return;
    const { output } = toStepResult(decode(completed.result?.payloads));
    this.onStepOutput(step, output, Number(event.eventId));
  }

  private start(event: HistoryEvent, at: Date): void {
    const started = event.workflowExecutionStartedEventAttributes;
    const memo = mapFromPayloads(defaultPayloadConverter, started?.memo?.fields) ?? {};
    this.current = started ? snapshotFromMemo(this.taskId, this.runId, memo, at) : undefined;
    this.foreign = !this.current;
    if (this.current) {
      this.action('submit', this.current.userId, '', at, toActionOrigin(memo[MEMO_SUBMITTED]));
    }
  }

  /** The audit entry of a control signal that took effect. */
  private signalAction(name: ControlSignalName, request: ControlRequest, at: Date): void {
    if (!this.onAction) return;
    const plain = (
      { [PAUSE_SIGNAL]: 'pause', [RESUME_SIGNAL]: 'resume', [CANCEL_SIGNAL]: 'cancel' } as const
    )[name];
    const deadline = name === PAUSE_SIGNAL &&
      request.timeout_seconds !== undefined && {
        timeout_seconds: request.timeout_seconds,
        on_timeout: request.on_timeout ?? 'resume',
      };
    this.action(
      request.batch_id === undefined ? plain : `batch_${plain}`,
      request.requested_by,
      request.reason,
      at,
      request,
      deadline || {},
    );
  }

  private action(
    action: TaskActionName,
    actor: string,
    reason: string,
    at: Date,
    origin: ActionOrigin,
    extra: Partial<TaskAction> = {},
  ): void {
    this.onAction?.({
      action,
      actor,
      key_name: origin.key_name ?? '',
      reason,
      at: at.toISOString(),
      request_id: origin.request_id ?? '',
      trace_id: origin.trace_id ?? '',
      ...(origin.batch_id !== undefined && { batch_id: origin.batch_id }),
      ...extra,
    });
  }

  /**
   * The workflow recorded its state. Control is taken from the record: the workflow applied
   * the same signals in the same order, so the two agree, and the record also carries changes
   * the workflow made by itself. What the record stands for is the contract's rule
   * (readRecord), the one the workflow's own count of its task events applies too.
   */
  private memoChanged(
    event: HistoryEvent,
    at: Date,
    fields: Parameters<typeof mapFromPayloads>[1],
  ): TaskEvent | undefined {
    const task = this.current!;
    const memo = mapFromPayloads(defaultPayloadConverter, fields) ?? {};
    task.control = toControlRecord(memo[MEMO_CONTROL]) ?? task.control;
    task.model = toModelUsageRecord(memo[MEMO_MODEL_USAGE]) ?? task.model;
    task.updatedAt = asDate(memo[MEMO_UPDATED_AT]) ?? (memo[MEMO_PROGRESS] ? at : task.updatedAt);
    task.taskEvents = toTaskEventCount(memo[MEMO_TASK_EVENTS]) ?? task.taskEvents;
    const reading = readRecord(
      { controlVersion: this.knownVersion, approvals: task.approvals, progress: task.progress },
      memo,
    );
    this.knownVersion = reading.known.controlVersion;
    if (reading.known.approvals !== task.approvals) task.approvals = reading.known.approvals;
    if (reading.known.progress !== task.progress) task.progress = reading.known.progress;
    if (reading.timedOut) this.pauseTimedOutAction(reading.timedOut);
    const recorded = reading.event;
    if (!recorded) return undefined;
    switch (recorded.kind) {
      case 'deadline':
        return this.pauseTimedOut(event, at, recorded.policy);
      case 'approval_requested':
        return this.emit(
          event,
          at,
          'APPROVAL_REQUESTED',
          `Approval requested at ${recorded.pending.checkpoint}`,
          { approval_id: recorded.pending.approval_id, checkpoint: recorded.pending.checkpoint },
        );
      case 'approval_expired':
        return this.approvalExpired(event, at, recorded.approval);
      case 'paused':
        return this.emit(event, at, 'workflow.paused', 'Paused', {
          checkpoint: recorded.progress.checkpoint,
        });
      case 'step_done': {
        const { progress } = recorded;
        const message = `Step ${progress.steps_done} of ${progress.steps_total} completed`;
        return this.emit(event, at, 'PROGRESS', message, {
          checkpoint: progress.checkpoint,
          step: progress.steps_done,
        });
      }
      case 'checkpoint': {
        const { progress } = recorded;
        return this.emit(event, at, 'PROGRESS', `Checkpoint ${progress.checkpoint}`, {
          checkpoint: progress.checkpoint,
          step: progress.steps_done,
        });
      }
    }
  }

  /** The audit entry of a pause deadline the workflow applied, whatever its policy. */
  private pauseTimedOutAction(recorded: ControlRecord): void {
    this.action(
      'pause_timeout',
      SYSTEM_ACTOR,
      PAUSE_TIMED_OUT,
      this.current!.updatedAt,
      {},
      { on_timeout: recorded.timed_out },
    );
  }

  /**
   * The workflow applied a pause's deadline (a change no signal made): the resume or cancel it
   * stands for, by `system`; a deadline that fails the task is told by WORKFLOW_FAILED.
   */
  private pauseTimedOut(event: HistoryEvent, at: Date, policy: 'resume' | 'cancel'): TaskEvent {
    // Its record stands for nothing else: the progress is the one before it.
    const progress = this.current!.progress;
    const who = { reason: PAUSE_TIMED_OUT, requested_by: SYSTEM_ACTOR };
    switch (policy) {
      case 'resume':
        return this.emit(event, at, 'workflow.resumed', withReason('Resuming', PAUSE_TIMED_OUT), {
          ...who,
          checkpoint: progress?.waiting ? progress.checkpoint : '',
        });
      case 'cancel':
        return this.emit(
          event,
          at,
          'workflow.cancelling',
          withReason('Cancelling', PAUSE_TIMED_OUT),
          who,
        );
    }
  }

  private close(at: Date, terminal: TerminalStatus): void {
    this.current!.terminal = terminal;
    this.current!.closedAt = at;
    this.current!.updatedAt = at;
  }

  /**
   * A decision signal: applied by the contract's rule (it settles only the approval the task
   * waits for); a rejection also cancels the task, as the workflow does.
   */
  private approvalDecided(event: HistoryEvent, at: Date, input: unknown): TaskEvent | undefined {
    const task = this.current!;
    const decision = toApprovalDecision(input);
    if (!decision) return undefined;
    const decidedAt = requestTime(
      { reason: '', requested_by: '', requested_at: decision.requested_at },
      at,
    );
    const before = task.approvals ?? initialApprovals();
    const after = applyApprovalDecision(before, decision, decidedAt);
    if (after === before) return undefined;
    task.approvals = after;
    task.updatedAt = decidedAt;
    if (!decision.approved) {
      const request = {
        reason: rejectedReason(decision.feedback),
        requested_by: decision.requested_by,
      };
      task.control = applyControlSignal(task.control, CANCEL_SIGNAL, request, decidedAt);
      this.knownVersion = Math.max(this.knownVersion, task.control.version);
    }
    this.action(
      decision.approved ? 'approve' : 'reject',
      decision.requested_by,
      decision.feedback,
      decidedAt,
      decision,
      { approval_id: decision.approval_id },
    );
    const checkpoint = before.pending?.checkpoint ?? '';
    return this.emit(
      event,
      at,
      'APPROVAL_DECISION',
      decision.approved ? 'Approved' : withReason('Rejected', decision.feedback),
      {
        approval_id: decision.approval_id,
        checkpoint,
        approved: decision.approved,
        decided_by: decision.requested_by,
        feedback: decision.feedback,
      },
    );
  }

  /**
   * A request the workflow let expire: approved when the task went on; otherwise the record
   * also shows it cancelled.
   */
  private approvalExpired(event: HistoryEvent, at: Date, expired: ApprovalRecord): TaskEvent {
    const approved = !this.current!.control.is_cancelled;
    this.action(
      approved ? 'approve' : 'reject',
      SYSTEM_ACTOR,
      APPROVAL_TIMED_OUT,
      at,
      {},
      {
        approval_id: expired.approval_id,
      },
    );
    return this.emit(
      event,
      at,
      'APPROVAL_DECISION',
      approved ? 'Approval timed out: approved' : 'Approval timed out: rejected',
      {
        approval_id: expired.approval_id,
        checkpoint: expired.checkpoint,
        approved,
        decided_by: expired.decided_by,
        feedback: '',
        expired: true,
      },
    );
  }

  private emit(
    event: HistoryEvent,
    at: Date,
    type: TaskEvent['type'],
    message: string,
    fields: Record<string, unknown> = {},
  ): TaskEvent {
    return {
      workflow_id: this.taskId,
      type,
      message,
      timestamp: at.toISOString(),
      seq: Number(event.eventId),
      ...fields,
    };
  }
}

/** Folds a whole history; undefined for a workflow that is not a task of this service. */
export function readTaskHistory(
  taskId: string,
  runId: string,
  history: readonly HistoryEvent[],
): { task: TaskSnapshot; events: TaskEvent[] } | undefined {
  const fold = new TaskHistoryFold(taskId, runId);
  const events = history.flatMap((e) => fold.apply(e) ?? []);
  const task = fold.snapshot;
  return task && { task, events };
}

export function statusOf(snapshot: TaskSnapshot): TaskStatus {
  if (snapshot.terminal) return `TASK_STATUS_${snapshot.terminal}`;
  if (snapshot.control.is_paused) return 'TASK_STATUS_PAUSED';
  return snapshot.started ? 'TASK_STATUS_RUNNING' : 'TASK_STATUS_QUEUED';
}

/**
 * The control state as a client should read it: a closed task is not paused any more, whatever
 * pause was pending when it ended, and that pause's deadline will never pass (a cancelled one
 * keeps who cancelled it and why).
 */
export function effectiveControl(snapshot: TaskSnapshot): ControlRecord {
  if (!snapshot.terminal || !snapshot.control.is_paused) return snapshot.control;
  return unpaused(snapshot.control);
}
