import { SimulatedOptionsError, parseSimulatedOptions } from './simulated-options';

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
