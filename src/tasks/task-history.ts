import { defaultPayloadConverter, mapFromPayloads, type Payload } from '@temporalio/common';
import { tsToDate } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import {
  CANCEL_SIGNAL,
  ControlState,
  MEMO_CONTEXT,
  MEMO_MODE,
  MEMO_PROGRESS,
  MEMO_QUERY,
  MEMO_REQUEST_HASH,
  MEMO_SESSION_ID,
  MEMO_TENANT_ID,
  MEMO_USER_ID,
  PAUSE_SIGNAL,
  RESUME_SIGNAL,
  TaskProgress,
  applyControlSignal,
  initialControlState,
  isControlSignalName,
  toControlRequest,
} from '../workflows/contract';
import type { TaskEvent } from './task-event';
import type { TaskStatus, TerminalStatus } from './task-status';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Everything the API knows about a task, derived from its workflow history alone. */
export interface TaskSnapshot {
  taskId: string;
  tenantId: string;
  userId: string;
  sessionId: string;
  query: string;
  mode: string;
  context: Record<string, unknown>;
  requestHash: string;
  createdAt: Date;
  updatedAt: Date;
  /** Set once the task is closed. */
  closedAt?: Date;
  terminal?: TerminalStatus;
  /** Whether a worker has picked the task up. */
  picked: boolean;
  /** Folded from the control signals in history, so it holds before any worker saw them. */
  control: ControlState;
  progress?: TaskProgress;
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

const eventTime = (event: HistoryEvent): Date =>
  event.eventTime ? tsToDate(event.eventTime) : new Date(0);

const withReason = (verb: string, reason: string): string => (reason ? `${verb}: ${reason}` : verb);

/**
 * Folds a task's workflow history, one event at a time, into its snapshot and its stream of
 * task events. Every task event comes from exactly one history event and takes its ID as `seq`,
 * so the events of a task are the same, with the same ids, for every reader at any time.
 */
export class TaskHistoryFold {
  private current?: TaskSnapshot;
  /** Set for a workflow that is not a task of this service (no tenant in its start memo). */
  private foreign = false;

  constructor(private readonly taskId: string) {}

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
    task.updatedAt = at;

    const signaled = event.workflowExecutionSignaledEventAttributes;
    if (signaled?.signalName && isControlSignalName(signaled.signalName)) {
      const request = toControlRequest(decode(signaled.input?.payloads));
      const before = task.control;
      task.control = applyControlSignal(before, signaled.signalName, request, at);
      if (task.control === before) return undefined;
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
          return this.emit(event, at, 'workflow.resumed', withReason('Resuming', request.reason), {
            ...who,
            checkpoint: task.progress?.checkpoint ?? '',
          });
        case CANCEL_SIGNAL:
          this.pausedWhenCancelled = before.is_paused;
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
      task.picked = true;
      return undefined;
    }
    const modified = event.workflowPropertiesModifiedEventAttributes;
    if (modified) {
      const memo = mapFromPayloads(defaultPayloadConverter, modified.upsertedMemo?.fields);
      const progress = memo?.[MEMO_PROGRESS] as TaskProgress | undefined;
      if (!progress) return undefined;
      const previous = task.progress;
      task.progress = progress;
      return this.progressEvent(event, at, previous, progress);
    }
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
        was_paused: this.pausedWhenCancelled || (task.progress?.waiting ?? false),
      });
    }
    return undefined;
  }

  private pausedWhenCancelled = false;

  private start(event: HistoryEvent, at: Date): void {
    const started = event.workflowExecutionStartedEventAttributes;
    const memo = mapFromPayloads(defaultPayloadConverter, started?.memo?.fields) ?? {};
    const tenantId = asString(memo[MEMO_TENANT_ID]);
    if (!started || !tenantId) {
      this.foreign = true;
      return;
    }
    this.current = {
      taskId: this.taskId,
      tenantId,
      userId: asString(memo[MEMO_USER_ID]),
      sessionId: asString(memo[MEMO_SESSION_ID]),
      query: asString(memo[MEMO_QUERY]),
      mode: asString(memo[MEMO_MODE]),
      context: asObject(memo[MEMO_CONTEXT]),
      requestHash: asString(memo[MEMO_REQUEST_HASH]),
      createdAt: at,
      updatedAt: at,
      picked: false,
      control: initialControlState(),
      result: '',
      error: '',
    };
  }

  /** One memo change is one step of progress: a checkpoint passed, a step done, a pause begun. */
  private progressEvent(
    event: HistoryEvent,
    at: Date,
    previous: TaskProgress | undefined,
    progress: TaskProgress,
  ): TaskEvent | undefined {
    const where = { checkpoint: progress.checkpoint, step: progress.steps_done };
    if (progress.cancelled) return undefined; // reported by workflow.cancelled when it closes
    if (progress.waiting && !previous?.waiting) {
      return this.emit(event, at, 'workflow.paused', 'Paused', { checkpoint: progress.checkpoint });
    }
    if (progress.steps_done !== (previous?.steps_done ?? 0)) {
      const message = `Step ${progress.steps_done} of ${progress.steps_total} completed`;
      return this.emit(event, at, 'PROGRESS', message, where);
    }
    if (progress.checkpoint !== previous?.checkpoint) {
      return this.emit(event, at, 'PROGRESS', `Checkpoint ${progress.checkpoint}`, where);
    }
    return undefined;
  }

  private close(at: Date, terminal: TerminalStatus): void {
    this.current!.terminal = terminal;
    this.current!.closedAt = at;
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
  history: HistoryEvent[],
): { task: TaskSnapshot; events: TaskEvent[] } | undefined {
  const fold = new TaskHistoryFold(taskId);
  const events = history.flatMap((e) => fold.apply(e) ?? []);
  const task = fold.snapshot;
  return task && { task, events };
}

export function statusOf(snapshot: TaskSnapshot): TaskStatus {
  if (snapshot.terminal) return `TASK_STATUS_${snapshot.terminal}`;
  if (snapshot.control.is_paused) return 'TASK_STATUS_PAUSED';
  return snapshot.picked ? 'TASK_STATUS_RUNNING' : 'TASK_STATUS_QUEUED';
}
