import type { DevServer } from '../../src/temporal/dev-server';
import type { NodeProcess } from './processes';

export const E2E_TASK_QUEUE = 'tasks-e2e';

export interface E2eGlobals {
  __e2e?: { server: DevServer; worker: NodeProcess };
}

/** The address of the run's Temporal dev server, set by the global setup. */
export function temporalAddress(): string {
  const address = process.env.E2E_TEMPORAL_ADDRESS;
  if (!address) throw new Error('E2E_TEMPORAL_ADDRESS is unset: run the e2e tests through jest');
  return address;
}
