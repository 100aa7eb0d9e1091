import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { temporalEnv } from './e2e-env';

export const ROOT = resolve(__dirname, '..', '..');

export interface NodeProcess {
  readonly pid: number;
  /** Graceful stop (SIGTERM or SIGINT), awaited; resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Crash it (SIGKILL), awaited. */
  kill(): Promise<void>;
  /** Resolves to the exit code once it has exited, by itself or not. */
  readonly exited: Promise<number | null>;
  output(): string;
}

export interface NodeProcessOptions {
  /** Pins the process to these CPUs (a taskset list, e.g. "1"). */
  cpus?: string;
  /** Flags for node itself, e.g. --cpu-prof (which NODE_OPTIONS does not accept). */
  nodeArgs?: string[];
}

/** Runs one of the built entry points (`dist/<entry>.js`) with only the given environment. */
export function startNodeProcess(
  entry: string,
  env: Record<string, string>,
  { cpus, nodeArgs = [] }: NodeProcessOptions = {},
): NodeProcess {
  const script = join(ROOT, 'dist', `${entry}.js`);
  if (!existsSync(script)) {
    throw new Error(`${script} is missing: run "npm run build" first (npm test does).`);
  }
  const logFile = join(mkdtempSync(join(tmpdir(), `task-${entry}-`)), 'output.log');
  const log = openSync(logFile, 'a');
  const node = [process.execPath, ...nodeArgs, script];
  const [command, ...args] = cpus ? ['taskset', '-c', cpus, ...node] : node;
  const child: ChildProcess = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exitCode: number | null | undefined;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const end = (signal: NodeJS.Signals): Promise<number | null> => {
    if (exitCode === undefined) child.kill(signal);
    return exit;
  };
  return {
    pid: child.pid ?? -1,
    stop: (signal = 'SIGTERM') => end(signal),
    kill: async () => {
      await end('SIGKILL');
    },
    output: () => readFileSync(logFile, 'utf8'),
    exited: exit,
  };
}

/** A real worker process polling `taskQueue`. */
export const startWorkerProcess = (options: {
  address: string;
  taskQueue: string;
  env?: Record<string, string>;
}): NodeProcess =>
  startNodeProcess('worker', {
    ...temporalEnv(options.address),
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    ...options.env,
  });
