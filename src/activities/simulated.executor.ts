import { ApplicationFailure } from '@temporalio/activity';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  PhaseContext,
  PlanResult,
  StepInput,
  StepResult,
  SynthesisInput,
  SynthesisResult,
  TaskExecutor,
  TaskInput,
} from './contract';
import { parseSimulatedOptions } from '../workflows/simulated-options';

/**
 * Needs nothing external: its output is derived from the query alone, and says so. Steps take
 * `context.step_duration_ms` each, so a person or a test can make a task long enough to pause.
 */
export class SimulatedExecutor implements TaskExecutor {
  plan(task: TaskInput): Promise<PlanResult> {
    const { steps } = parseSimulatedOptions(task.context);
    return Promise.resolve({
      steps: Array.from(
        { length: steps },
        (_, i) => `Step ${i + 1} of ${steps} for: ${task.query}`,
      ),
    });
  }

  async runStep(
    { task, step, total, description }: StepInput,
    ctx: PhaseContext,
  ): Promise<StepResult> {
    const { stepDurationMs, failAtStep } = parseSimulatedOptions(task.context);
    // A cancelled task stops its step at once: the wait rejects when the signal aborts.
    if (stepDurationMs > 0) await sleep(stepDurationMs, undefined, { signal: ctx.signal });
    if (failAtStep === step) {
      throw ApplicationFailure.nonRetryable(
        `Simulated failure at step ${step} of ${total}`,
        'SimulatedFailure',
      );
    }
    return { output: `${description}: done (simulated)` };
  }

  synthesize({ task, outputs }: SynthesisInput): Promise<SynthesisResult> {
    return Promise.resolve({
      result:
        `Simulated result for "${task.query}": ${outputs.length} steps completed. ` +
        'Produced by the simulated executor; no model was called.',
    });
  }
}
