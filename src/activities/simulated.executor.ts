import { ApplicationFailure, Context } from '@temporalio/activity';
import type { TaskInput } from '../workflows/contract';
import type { StepInput, SynthesisInput, TaskExecutor } from './contract';
import { parseSimulatedOptions } from './simulated-options';

const HEARTBEAT_EVERY_MS = 1000;

/**
 * Needs nothing external: its output is derived from the query alone, and says so. Steps take
 * `context.step_duration_ms` each, so a person or a test can make a task long enough to pause.
 */
export class SimulatedExecutor implements TaskExecutor {
  plan(task: TaskInput): Promise<string[]> {
    const { steps } = parseSimulatedOptions(task.context);
    return Promise.resolve(
      Array.from({ length: steps }, (_, i) => `Step ${i + 1} of ${steps} for: ${task.query}`),
    );
  }

  async runStep({ task, step, total, description }: StepInput): Promise<string> {
    const { stepDurationMs, failAtStep } = parseSimulatedOptions(task.context);
    const ctx = Context.current();
    // Sleep in slices and heartbeat between them, so a cancelled task stops its step promptly.
    for (let left = stepDurationMs; left > 0; left -= HEARTBEAT_EVERY_MS) {
      await ctx.sleep(Math.min(left, HEARTBEAT_EVERY_MS));
      ctx.heartbeat({ step });
    }
    if (failAtStep === step) {
      throw ApplicationFailure.nonRetryable(
        `Simulated failure at step ${step} of ${total}`,
        'SimulatedFailure',
      );
    }
    return `${description}: done (simulated)`;
  }

  synthesize({ task, outputs }: SynthesisInput): Promise<string> {
    return Promise.resolve(
      `Simulated result for "${task.query}": ${outputs.length} steps completed. ` +
        'Produced by the simulated executor; no model was called.',
    );
  }
}
