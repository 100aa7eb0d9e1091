import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
const DIST_WORKER = join(ROOT, 'dist', 'worker.js');

export interface WorkerProcess {
  readonly pid: number;
  /** Graceful stop (SIGTERM), awaited. */
  stop(): Promise<void>;
  /** Crash it (SIGKILL), awaited. */
  kill(): Promise<void>;
  output(): string;
}

/** A real worker process (`dist/worker.js`) polling `taskQueue`. */
export function startWorkerProcess(options: { address: string; taskQueue: string }): WorkerProcess {
  if (!existsSync(DIST_WORKER)) {
    throw new Error(`${DIST_WORKER} is missing: run "npm run build" first (npm test does).`);
  }
  const logFile = join(mkdtempSync(join(tmpdir(), 'task-worker-')), 'worker.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [DIST_WORKER], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      TEMPORAL_ADDRESS: options.address,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited = false;
  const exit = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true;
      r();
    }),
  );
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (!exited) child.kill(signal);
    await exit;
  };
  return {
    pid: child.pid ?? -1,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    output: () => readFileSync(logFile, 'utf8'),
  };
}
