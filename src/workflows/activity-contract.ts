/**
 * The activities the workflows schedule: their names, inputs and results. The workflows proxy
 * them by these types; src/activities implements them. Types only, so both sides may import it.
 */
import type { BatchCounts, BatchInput } from './batch-contract';
import type { PlanResult, StepResult, SynthesisResult, TaskInput } from './contract';

/** One step, as an executor gets it. */
export interface StepInput {
  task: TaskInput;
  /** 1-based. */
  step: number;
  total: number;
  description: string;
  /** The outputs of the steps before this one, in order. */
  previous_outputs: string[];
}

export interface SynthesisInput {
  task: TaskInput;
  outputs: string[];
}

/**
 * Activity inputs. `result_version` (ACTIVITY_RESULT_VERSION) asks for result objects; without
 * it (workflow code from before them) the activities answer with plain values.
 * `previous_outputs` is absent in steps scheduled by that older code.
 */
type PlanActivityInput = TaskInput & { result_version?: number };
type StepActivityInput = Omit<StepInput, 'previous_outputs'> & {
  previous_outputs?: string[];
  result_version?: number;
};
type SynthesisActivityInput = SynthesisInput & { result_version?: number };

export interface TaskActivities {
  planTask(input: PlanActivityInput): Promise<PlanResult | string[]>;
  runStep(input: StepActivityInput): Promise<StepResult | string>;
  synthesizeResult(input: SynthesisActivityInput): Promise<SynthesisResult | string>;
}

/** The activities that control tasks (pause deadlines, batches). */
export interface ControlActivities {
  /** Asks Temporal to cancel the task's workflow (a pause deadline with `cancel`). */
  requestTaskCancellation(taskId: string): Promise<void>;
  /** Applies a batch's action to some of its tasks (`task_ids`), each by the API's own rules. */
  applyBatchAction(chunk: BatchInput): Promise<Omit<BatchCounts, 'matched'>>;
}
