/**
 * The processes a benchmark measures: a real Temporal dev server, worker processes and API
 * processes (from dist/, as deployed), each on free loopback ports.
 */
import { Logger } from '@nestjs/common';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevServer, startDevServer } from '../src/temporal/dev-server';
import { resolveTemporalCli } from '../src/temporal/temporal-cli';
import { ApiClient } from '../test/support/api';
import { freePort } from '../test/support/ports';
import { NodeProcess, startNodeProcess } from '../test/support/processes';
import { waitFor } from '../test/support/wait';

export const DEV_KEY = 'sk_test_123456';

export interface Stack {
  temporalAddress: string;
  server?: DevServer;
  stop(): Promise<void>;
}

/** Uses TEMPORAL_ADDRESS when set, otherwise starts an in-memory dev server. */
export async function startTemporal(): Promise<Stack> {
  const external = process.env.TEMPORAL_ADDRESS;
  if (external) return { temporalAddress: external, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'task-api-bench-'));
  const server = await startDevServer({
    cliPath: resolveTemporalCli(process.env.TEMPORAL_CLI_PATH, new Logger('bench')),
    port: await freePort(),
    namespace: 'default',
    logFile: join(dir, 'temporal-server.log'),
  });
  return { temporalAddress: server.address, server, stop: () => server.stop() };
}

export function startWorker(temporalAddress: string, taskQueue: string): NodeProcess {
  return startNodeProcess('worker', {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
  });
}

/** An API process in development mode (the example key works). */
export async function startApi(
  temporalAddress: string,
  taskQueue: string,
): Promise<{ process: NodeProcess; client: ApiClient; url: string }> {
  const port = await freePort();
  // BENCH_API_CPUS pins the API (run the benchmark itself with `taskset -c <others>` too).
  const child = startNodeProcess(
    'main',
    {
      NODE_ENV: 'development',
      PORT: String(port),
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      // Measured here: what the API adds on top of Temporal, not the rate limiter's refusals.
      RATE_LIMIT_PER_MINUTE: '0',
    },
    process.env.BENCH_API_CPUS,
  );
  const url = `http://127.0.0.1:${port}`;
  const client = new ApiClient(url, DEV_KEY);
  await waitFor(
    'the API to be ready',
    async () => (await client.request('GET', '/readiness').catch(() => undefined))?.status === 200,
    60_000,
  );
  return { process: child, client, url };
}

/** Resident memory of a process, in bytes (Linux). */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Runs a benchmark's main and exits: 0 when it finished, 1 with the error otherwise. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
