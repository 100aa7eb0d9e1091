/** Signatures of the activities that control tasks, imported by workflows as types only. */
import type { BatchCounts, BatchInput } from '../workflows/batch-contract';

export interface ControlActivities {
  /** Asks Temporal to cancel the task's workflow (a pause deadline with `cancel`). */
  requestTaskCancellation(taskId: string): Promise<void>;
  /** Applies a batch's action to some of its tasks (`task_ids`), each by the API's own rules. */
  applyBatchAction(chunk: BatchInput): Promise<Omit<BatchCounts, 'matched'>>;
}
