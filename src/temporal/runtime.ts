import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/**
 * Must run before any worker or native connection exists. Leaves signal handling to the
 * process (NestJS or the embedded launcher) so shutdown happens in one orderly place.
 */
export function installTemporalRuntime(): void {
  if (installed) return;
  Runtime.install({ shutdownSignals: [], logger: new DefaultLogger('WARN') });
  installed = true;
}
