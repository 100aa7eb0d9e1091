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
