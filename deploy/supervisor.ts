/**
 * Runs the processes of `npm run start:cluster` as a service manager would: each started and
 * awaited until it is ready, restarted when it dies on its own (with a growing delay), and
 * stopped in order. Every process gets a log file of its own.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';

export interface ServiceSpec {
  /** Short and unique: names the log file and the entry in cluster.json. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  logFile: string;
  /**
   * Resolves true once the process serves; polled after each start. `logOffset`: where its log
   * file ended when this start began.
   */
  ready(logOffset: number): Promise<boolean>;
  readyTimeoutMs?: number;
  /** The signal that stops it cleanly (default SIGTERM), and how long that may take. */
  stopSignal?: NodeJS.Signals;
  stopTimeoutMs?: number;
}

export type Log = (line: string) => void;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The last lines a process wrote, for an error message. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Restarts come no faster than this, doubling up to the maximum while a process keeps dying. */
const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 10_000;
/** A process that ran this long before dying counts as healthy again. */
const HEALTHY_AFTER_MS = 30_000;

export class Service {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private stopping = false;
  /** Once ready, a death is restarted; before that it is a failed start, for the caller. */
  private served = false;
  private restartDelay = FIRST_RESTART_DELAY_MS;
  /** How many times it was restarted after dying on its own. */
  restarts = 0;

  constructor(
    readonly spec: ServiceSpec,
    private readonly log: Log,
    /** Told after every start, so cluster.json shows the current process IDs. */
    private readonly onStart: () => void = () => {},
  ) {}

  /** The running process's ID; undefined before its start and once it has exited. */
  get pid(): number | undefined {
    const child = this.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** Starts the process and resolves once it is ready; rejects with its last output if not. */
  async start(): Promise<void> {
    const { spec } = this;
    const logOffset = existsSync(spec.logFile) ? statSync(spec.logFile).size : 0;
    const out = openSync(spec.logFile, 'a');
    const child = spawn(spec.command, spec.args, {
      env: spec.env ?? process.env,
      cwd: spec.cwd,
      uid: spec.uid,
      gid: spec.gid,
      // Its own process group: a Ctrl-C reaches the launcher, which stops everything in order.
      detached: true,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.child = child;
    const startedAt = Date.now();
    let running = true;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running = false;
        resolve();
        if (!this.stopping && this.served) this.died(code, signal, Date.now() - startedAt);
      });
      child.once('error', () => resolve());
    });
    this.onStart();
    const deadline = Date.now() + (spec.readyTimeoutMs ?? 60_000);
    while (running) {
      if (await spec.ready(logOffset).catch(() => false)) {
        this.served = true;
        return;
      }
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    throw new Error(
      `${spec.name} ${running ? 'did not become ready' : 'exited'}; its last output ` +
        `(${spec.logFile}):\n${tail(spec.logFile)}`,
    );
  }

  private died(code: number | null, signal: NodeJS.Signals | null, ranMs: number): void {
    if (ranMs > HEALTHY_AFTER_MS) this.restartDelay = FIRST_RESTART_DELAY_MS;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
    this.log(
      `${this.spec.name} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms ` +
        `(log: ${this.spec.logFile})`,
    );
    this.restarts++;
    void (async () => {
      await sleep(delay);
      if (this.stopping) return;
      try {
        await this.start();
        this.log(`${this.spec.name} is back (pid ${this.pid})`);
      } catch (err) {
        // It exited again: that exit schedules the next attempt. Not ready in time: say so.
        if (!this.stopping && this.child?.exitCode === null) this.log((err as Error).message);
      }
    })();
  }

  /** Stops it with its stop signal, then SIGKILL if it takes too long. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(this.spec.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.spec.stopTimeoutMs ?? 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}
