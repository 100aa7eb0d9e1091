export const TASK_EVENT_TYPES = [
  'WORKFLOW_STARTED',
  'PROGRESS',
  'workflow.pausing',
  'workflow.paused',
  'workflow.resumed',
  'workflow.cancelling',
  'workflow.cancelled',
  'WORKFLOW_COMPLETED',
  'WORKFLOW_FAILED',
  'APPROVAL_REQUESTED',
  'APPROVAL_DECISION',
] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

/** One event of a task, as the stream's `data` and the event history carry it. */
export interface TaskEvent {
  workflow_id: string;
  type: TaskEventType;
  message: string;
  /** RFC 3339: when Temporal recorded it. */
  timestamp: string;
  /** The history event ID it comes from: positive and increasing within a task. */
  seq: number;
  [field: string]: unknown;
}

/**
 * Live events: the text of a step while it streams (`LLM_PARTIAL`, with `delta`) and the step's
 * whole output when it ends (`LLM_OUTPUT`, with `output`). Sent only to the streams open at the
 * time, without an `id:`: they are not task events, never stored, listed or replayed.
 */
export const LIVE_EVENT_TYPES = ['LLM_PARTIAL', 'LLM_OUTPUT'] as const;
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

/** Every event name a stream can send, for its `types` filter. */
export const STREAM_EVENT_TYPES = [...TASK_EVENT_TYPES, ...LIVE_EVENT_TYPES] as const;

export interface LiveTaskEvent {
  workflow_id: string;
  type: LiveEventType;
  message: string;
  /** RFC 3339: when this instance saw it. */
  timestamp: string;
  step: number;
  [field: string]: unknown;
}

/** Index of the first of `events` (ordered by seq) with a seq above `seq`; their length if none. */
export function indexAfterSeq(events: readonly TaskEvent[], seq: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (events[mid].seq <= seq) low = mid + 1;
    else high = mid;
  }
  return low;
}
