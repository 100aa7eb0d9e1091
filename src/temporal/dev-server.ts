import { Connection } from '@temporalio/client';
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { setUpTemporal } from './temporal-setup';

export interface DevServerOptions {
  cliPath: string;
  port: number;
  /** Omit for no Web UI. */
  uiPort?: number;
  namespace: string;
  /** SQLite file that keeps state across restarts; omit for an in-memory server. */
  dbFile?: string;
  /** Where the server's own output goes. */
  logFile: string;
  /** Holds the server's PID, so a later start can stop a server an earlier crash left behind. */
  pidFile?: string;
  readyTimeoutMs?: number;
  /** Where Prometheus metrics are served (`/metrics`); a random port when omitted. */
  metricsPort?: number;
  /** More dynamic config, e.g. `{ 'frontend.namespaceCount': 40 }`. */
  dynamicConfig?: Record<string, string | number | boolean>;
}

export interface DevServer {
  readonly address: string;
  readonly uiUrl?: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Stops a server recorded in `pidFile` that outlived the process that started it. */
async function stopLeftover(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    if (!(await waitFor(() => !isAlive(pid), 10_000))) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function answers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1000 });
    await connection.withDeadline(Date.now() + 1000, () =>
      connection!.workflowService.describeNamespace({ namespace }),
    );
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

/**
 * Starts `temporal server start-dev`: a real Temporal server on SQLite. It runs in its own
 * process group, so a Ctrl-C reaches us first and we stop it last, after worker and API.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { cliPath, port, uiPort, namespace, dbFile, logFile, pidFile } = options;
  if (pidFile) await stopLeftover(pidFile);
  mkdirSync(dirname(logFile), { recursive: true });
  if (dbFile) mkdirSync(dirname(dbFile), { recursive: true });

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    // The version check calls out to the internet.
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    ...Object.entries(options.dynamicConfig ?? {}).flatMap(([key, value]) => [
      '--dynamic-config-value',
      `${key}=${JSON.stringify(value)}`,
    ]),
    ...(options.metricsPort === undefined ? [] : ['--metrics-port', String(options.metricsPort)]),
    ...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(dbFile ? ['--db-filename', dbFile] : []),
  ];
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(cliPath, args, {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Could not start ${cliPath}`);
  if (pidFile) writeFileSync(pidFile, String(pid));

  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    }
    if (pidFile) rmSync(pidFile, { force: true });
  };

  const address = `127.0.0.1:${port}`;
  const ready = await waitFor(
    async () => exited || (await answers(address, namespace)),
    options.readyTimeoutMs ?? 60_000,
  );
  if (!ready || exited) {
    await stop();
    throw new Error(
      `The Temporal dev server did not become ready on ${address}` +
        `${exited ? ' (it exited)' : ''}. Its last output (${logFile}):\n${tail(logFile)}`,
    );
  }
  // What an operator does with `npm run temporal:setup`; here the server is ours to set up.
  const connection = await Connection.connect({ address });
  try {
    await setUpTemporal(connection, namespace, { retentionDays: 1 });
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await connection.close();
  }
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://localhost:${uiPort}`,
    pid,
    stop,
  };
}
