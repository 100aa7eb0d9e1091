/** Signatures of the activities that control tasks, imported by workflows as types only. */
export interface ControlActivities {
  /** Asks Temporal to cancel the task's workflow (an approval that expired rejected). */
  requestTaskCancellation(taskId: string): Promise<void>;
}
