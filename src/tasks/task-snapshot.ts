import { defaultPayloadConverter, mapFromPayloads, type Payload } from '@temporalio/common';
import { tsToDate } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import {
  ControlState,
  MEMO_CONTEXT,
  MEMO_MODE,
  MEMO_PROGRESS,
  MEMO_QUERY,
  MEMO_REQUEST_HASH,
  MEMO_SESSION_ID,
  MEMO_TENANT_ID,
  MEMO_USER_ID,
  TaskProgress,
  applyControlSignal,
  initialControlState,
  isControlSignalName,
  toControlRequest,
} from '../workflows/contract';
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

/**
 * Folds a workflow history into a snapshot. Returns undefined for a workflow that is not a task
 * of this service (no tenant in its start memo), which callers treat as not found.
 */
export function snapshotFromHistory(
  taskId: string,
  events: HistoryEvent[],
): TaskSnapshot | undefined {
  const first = events[0];
  const started = first?.workflowExecutionStartedEventAttributes;
  if (!first || !started) return undefined;
  const memo = mapFromPayloads(defaultPayloadConverter, started.memo?.fields) ?? {};
  const tenantId = asString(memo[MEMO_TENANT_ID]);
  if (!tenantId) return undefined;

  const snapshot: TaskSnapshot = {
    taskId,
    tenantId,
    userId: asString(memo[MEMO_USER_ID]),
    sessionId: asString(memo[MEMO_SESSION_ID]),
    query: asString(memo[MEMO_QUERY]),
    mode: asString(memo[MEMO_MODE]),
    context: asObject(memo[MEMO_CONTEXT]),
    requestHash: asString(memo[MEMO_REQUEST_HASH]),
    createdAt: eventTime(first),
    updatedAt: eventTime(events[events.length - 1]),
    picked: false,
    control: initialControlState(),
    result: '',
    error: '',
  };

  for (const event of events) {
    const signaled = event.workflowExecutionSignaledEventAttributes;
    if (signaled?.signalName && isControlSignalName(signaled.signalName)) {
      const request = toControlRequest(decode(signaled.input?.payloads));
      snapshot.control = applyControlSignal(
        snapshot.control,
        signaled.signalName,
        request,
        eventTime(event),
      );
    } else if (event.workflowTaskStartedEventAttributes) {
      snapshot.picked = true;
    } else if (event.workflowPropertiesModifiedEventAttributes) {
      const upserted = mapFromPayloads(
        defaultPayloadConverter,
        event.workflowPropertiesModifiedEventAttributes.upsertedMemo?.fields,
      );
      if (upserted?.[MEMO_PROGRESS]) snapshot.progress = upserted[MEMO_PROGRESS] as TaskProgress;
    } else if (event.workflowExecutionCompletedEventAttributes) {
      close(snapshot, event, 'COMPLETED');
      snapshot.result = asString(
        decode(event.workflowExecutionCompletedEventAttributes.result?.payloads),
      );
    } else if (event.workflowExecutionFailedEventAttributes) {
      close(snapshot, event, 'FAILED');
      snapshot.error =
        event.workflowExecutionFailedEventAttributes.failure?.message || 'Task failed';
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      close(snapshot, event, 'FAILED');
      const reason = event.workflowExecutionTerminatedEventAttributes.reason;
      snapshot.error = reason ? `Terminated: ${reason}` : 'Terminated';
    } else if (event.workflowExecutionCanceledEventAttributes) {
      close(snapshot, event, 'CANCELLED');
    } else if (event.workflowExecutionTimedOutEventAttributes) {
      close(snapshot, event, 'TIMEOUT');
    }
  }
  return snapshot;
}

function close(snapshot: TaskSnapshot, event: HistoryEvent, terminal: TerminalStatus): void {
  snapshot.terminal = terminal;
  snapshot.closedAt = eventTime(event);
}

export function statusOf(snapshot: TaskSnapshot): TaskStatus {
  if (snapshot.terminal) return `TASK_STATUS_${snapshot.terminal}`;
  if (snapshot.control.is_paused) return 'TASK_STATUS_PAUSED';
  return snapshot.picked ? 'TASK_STATUS_RUNNING' : 'TASK_STATUS_QUEUED';
}
