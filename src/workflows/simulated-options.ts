/**
 * The `context` options the simulated executor honours. The API validates them at submit so a
 * caller hears about a bad value at once, and the executor reads them with the same rules.
 */
export interface SimulatedOptions {
  steps: number;
  stepDurationMs: number;
  /** 1-based step that fails on purpose, to show what a failed task looks like. */
  failAtStep?: number;
}

const LIMITS = {
  steps: { min: 1, max: 50, default: 3 },
  step_duration_ms: { min: 0, max: 60_000, default: 1000 },
} as const;

export class SimulatedOptionsError extends Error {}

function readInt(
  context: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const value = context[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SimulatedOptionsError(`context.${key} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** Throws `SimulatedOptionsError` naming the offending key. */
export function parseSimulatedOptions(context: Record<string, unknown>): SimulatedOptions {
  const steps =
    readInt(context, 'steps', LIMITS.steps.min, LIMITS.steps.max) ?? LIMITS.steps.default;
  const stepDurationMs =
    readInt(
      context,
      'step_duration_ms',
      LIMITS.step_duration_ms.min,
      LIMITS.step_duration_ms.max,
    ) ?? LIMITS.step_duration_ms.default;
  const failAtStep = readInt(context, 'fail_at_step', 1, steps);
  return { steps, stepDurationMs, failAtStep };
}

/**
 * What is wrong with the executor options in a task's `context`, in words for the caller;
 * undefined when nothing is. The API asks at submit, so a bad value is a 400 at once instead of
 * a failed task later, without knowing any executor's options itself. Only the simulated
 * executor reads options from the context today; its rules apply whichever executor runs.
 */
export function executorOptionsProblem(context: Record<string, unknown>): string | undefined {
  try {
    parseSimulatedOptions(context);
    return undefined;
  } catch (err) {
    if (err instanceof SimulatedOptionsError) return err.message;
    throw err;
  }
}
