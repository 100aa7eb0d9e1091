/**
 * The processes a benchmark measures: a real Temporal dev server, worker processes and API
 * processes (from dist/, as deployed), each on free loopback ports.
 */
import { Logger } from '@nestjs/common';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevServer, startDevServer } from '../src/temporal/dev-server';
import { run as createKeys } from '../src/scripts/keys';
import { resolveTemporalCli } from '../src/temporal/temporal-cli';
import { ApiClient } from '../test/support/api';
import { freePort } from '../test/support/ports';
import { NodeProcess, ROOT, startNodeProcess } from '../test/support/processes';
import { waitFor } from '../test/support/wait';

/** Whom the benchmark's key belongs to; tasks started by hand are started as them. */
export const BENCH_TENANT = 'bench';
export const BENCH_USER = 'bench-user';
/** The list benchmark's tenants, one per size, apart so that other operations' tasks do not count. */
export const benchListTenant = (size: number): string => `bench-list-${size}`;

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

/**
 * An API process as deployed (production mode: JSON logs, keys from a key file), with one key
 * for the tenant and user the benchmarks start their own tasks as.
 */
export async function startApi(
  temporalAddress: string,
  taskQueue: string,
  /** More tenants to make a key for (by tenant in `tenantKeys`). */
  tenants: string[] = [],
): Promise<{
  process: NodeProcess;
  client: ApiClient;
  url: string;
  key: string;
  tenantKeys: Record<string, string>;
}> {
  const port = await freePort();
  const keysFile = join(mkdtempSync(join(tmpdir(), 'task-api-bench-keys-')), 'keys.json');
  const createKey = (tenant: string): string => {
    const printed: string[] = [];
    createKeys(
      [
        'create',
        '--file',
        keysFile,
        '--name',
        tenant,
        '--tenant',
        tenant,
        '--user',
        BENCH_USER,
      ].concat(['--scopes', 'tasks:read,tasks:write']),
      (line) => printed.push(line),
    );
    return printed[0];
  };
  const key = createKey(BENCH_TENANT);
  const tenantKeys = Object.fromEntries(tenants.map((tenant) => [tenant, createKey(tenant)]));
  // BENCH_API_CPUS pins the API (run the benchmark itself with `taskset -c <others>` too).
  const child = startNodeProcess(
    'main',
    {
      NODE_ENV: 'production',
      API_KEYS_FILE: keysFile,
      PORT: String(port),
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      // Measured here: what the API adds on top of Temporal, not the rate limiter's refusals.
      RATE_LIMIT_PER_MINUTE: '0',
    },
    {
      cpus: process.env.BENCH_API_CPUS,
      // e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the API under the load.
      nodeArgs: [
        ...apiNodeFlags(),
        ...(process.env.BENCH_API_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const client = new ApiClient(url, key);
  await waitFor(
    'the API to be ready',
    async () => (await client.request('GET', '/readiness').catch(() => undefined))?.status === 200,
    60_000,
  );
  return { process: child, client, url, key, tenantKeys };
}

/** The node flags of `npm run start:api`: the benchmark runs the API as documented. */
function apiNodeFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return scripts['start:api'].split(/\s+/).filter((arg) => arg.startsWith('--'));
}

/** Resident memory of a process, in bytes (Linux). */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time a process has used so far (user + system), in milliseconds (Linux). */
export function cpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
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
