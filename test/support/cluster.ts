/**
 * Clusters of `npm run start:cluster` for tests: launching one on free ports (the suite's global
 * setup, the lifecycle spec), and the processes of the suite's cluster, for the fault specs.
 */
import { ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterState } from '../../deploy/cluster';
import { API_PORT_COUNT, TEMPORAL_PORT_COUNT } from '../../deploy/ports';
import { clusterStateFile } from './e2e-env';
import { writeKeysFile } from './keys';
import { freePortRange } from './ports';
import { ROOT } from './processes';
import { waitFor } from './wait';

export const clusterState = (file = clusterStateFile()): ClusterState =>
  JSON.parse(readFileSync(file, 'utf8')) as ClusterState;

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

/** A `npm run start:cluster` launcher started by a test (or the suite's global setup). */
export interface LaunchedCluster {
  launcher: ChildProcess;
  dataDir: string;
  /** The launcher's stdout and stderr (appended to by every start on this DATA_DIR)... */
  output: string;
  /** ...from this byte on, this start's. */
  outputFrom: number;
  port: number;
  temporalPort: number;
  /** The launcher's exit code (or signal), once it has exited. */
  exited: Promise<number | NodeJS.Signals>;
}

/** A fresh DATA_DIR that PostgreSQL (which runs as its own user) can reach. */
export function clusterDataDir(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'task-api-cluster-'));
  chmodSync(dataDir, 0o755);
  return dataDir;
}

/**
 * Starts what `npm run start:cluster` runs after its build (the launcher, deploy/cluster.ts) on
 * free ports, or on the given ones (a restart on the same DATA_DIR). `ownProcessGroup`: the
 * launcher leads a process group of its own, as a command in a terminal does, so that a test can
 * send it Ctrl-C's SIGINT the way a terminal does (to the whole group).
 */
export async function launchCluster(options: {
  dataDir: string;
  port?: number;
  temporalPort?: number;
  env?: NodeJS.ProcessEnv;
  ownProcessGroup?: boolean;
}): Promise<LaunchedCluster> {
  const { dataDir } = options;
  const port = options.port ?? (await freePortRange(API_PORT_COUNT));
  const temporalPort = options.temporalPort ?? (await freePortRange(TEMPORAL_PORT_COUNT));
  const output = join(dataDir, 'launcher.log');
  const outputFrom = existsSync(output) ? statSync(output).size : 0;
  const log = openSync(output, 'a');
  const launcher = spawn(process.execPath, ['--import', 'tsx', 'deploy/cluster.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      TEMPORAL_PORT: String(temporalPort),
      DATA_DIR: dataDir,
      NODE_ENV: 'test',
      API_KEYS_FILE: writeKeysFile(),
      RATE_LIMIT_PER_MINUTE: '0',
      ...options.env,
    },
    detached: options.ownProcessGroup ?? false,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    launcher.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { launcher, dataDir, output, outputFrom, port, temporalPort, exited };
}

/**
 * Resolves once the launcher says it is ready (every process serves), with the seconds it
 * reported; rejects with its output if it exits first or takes longer than `timeoutMs`.
 */
export async function clusterReady(cluster: LaunchedCluster, timeoutMs: number): Promise<number> {
  const { launcher, output, outputFrom } = cluster;
  const text = await waitFor(
    `the cluster on ${cluster.dataDir} to be ready`,
    () => {
      const text = readFileSync(output).subarray(outputFrom).toString();
      if (text.includes('] Ready in') || launcher.exitCode !== null) return text;
      return undefined;
    },
    timeoutMs,
  ).catch((err: Error) => {
    launcher.kill('SIGTERM');
    throw new Error(
      `${err.message}; launcher output (${output}):\n${readFileSync(output, 'utf8')}`,
    );
  });
  const ready = /\] Ready in ([\d.]+) s/.exec(text);
  if (!ready) throw new Error(`The cluster did not start (${output}):\n${text}`);
  return Number(ready[1]);
}
