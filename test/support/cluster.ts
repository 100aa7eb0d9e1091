/** The processes of the test cluster (`npm run start:cluster`), for the fault specs. */
import { readFileSync } from 'node:fs';
import type { ClusterState } from '../../deploy/cluster';
import { clusterStateFile } from './e2e-env';
import { waitFor } from './wait';

export const clusterState = (): ClusterState =>
  JSON.parse(readFileSync(clusterStateFile(), 'utf8')) as ClusterState;

function pidOf(name: string): number {
  const pid = clusterState().processes[name]?.pid;
  if (!pid) throw new Error(`The cluster runs no ${name}`);
  return pid;
}

/**
 * Sends `signal` to one process of the cluster and resolves once its supervisor has started it
 * again (a new PID in cluster.json). `restarted` resolves once the new process serves: the
 * caller waits for that with a check of its own (readiness, a poll) and a timeout.
 */
export function crash(
  name: string,
  signal: NodeJS.Signals = 'SIGKILL',
): { oldPid: number; restarted: Promise<number> } {
  const oldPid = pidOf(name);
  process.kill(oldPid, signal);
  const restarted = waitFor(
    `${name} to be restarted`,
    () => {
      const pid = clusterState().processes[name]?.pid;
      return pid !== undefined && pid !== oldPid ? pid : undefined;
    },
    60_000,
  );
  return { oldPid, restarted };
}
