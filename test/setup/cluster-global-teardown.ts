import { rmSync } from 'node:fs';
import type { ClusterGlobals } from './cluster-global-setup';

/** Stops the cluster as Ctrl-C would, then removes its data. */
export default async function clusterGlobalTeardown(): Promise<void> {
  const cluster = (globalThis as ClusterGlobals).__cluster;
  if (!cluster) return;
  const { launcher, dataDir } = cluster;
  if (launcher.exitCode === null) {
    const exited = new Promise((resolve) => launcher.once('exit', resolve));
    launcher.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
}
