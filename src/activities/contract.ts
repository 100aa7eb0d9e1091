/** Activity signatures, imported by the workflow as types only. */
import type { TaskInput } from '../workflows/contract';

export interface StepInput {
  task: TaskInput;
  /** 1-based. */
  step: number;
  total: number;
  description: string;
}

export interface SynthesisInput {
  task: TaskInput;
  outputs: string[];
}

export interface TaskActivities {
  planTask(task: TaskInput): Promise<string[]>;
  runStep(input: StepInput): Promise<string>;
  synthesizeResult(input: SynthesisInput): Promise<string>;
}

/** The work behind each phase of a task, chosen by configuration. */
export interface TaskExecutor {
  plan(task: TaskInput): Promise<string[]>;
  runStep(input: StepInput): Promise<string>;
  synthesize(input: SynthesisInput): Promise<string>;
}

export const createTaskActivities = (executor: TaskExecutor): TaskActivities => ({
  planTask: (task) => executor.plan(task),
  runStep: (input) => executor.runStep(input),
  synthesizeResult: (input) => executor.synthesize(input),
});
