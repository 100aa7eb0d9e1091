/**
 * The processes a benchmark measures: a real Temporal (a dev server, or with `--cluster` the
 * PostgreSQL-backed server of `npm run start:cluster`), worker processes and API processes (from
 * dist/, as deployed), each on free loopback ports.
 */
import { Logger } from '@nestjs/common';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PORT_COUNT, TEMPORAL_PORT_COUNT } from '../deploy/ports';
import { startCluster } from '../deploy/cluster';
import { startDevServer } from '../src/temporal/dev-server';
import { run as createKeys } from '../src/scripts/keys';
import { resolveTemporalCli } from '../src/temporal/temporal-cli';
import { ApiClient } from '../test/support/api';
import { freePort, freePortRange } from '../test/support/ports';
import { NodeProcess, ROOT, startNodeProcess } from '../test/support/processes';
import { waitFor } from '../test/support/wait';

/** Whom the benchmark's key belongs to; tasks started by hand are started as them. */
export const BENCH_TENANT = 'bench';
export const BENCH_USER = 'bench-user';
/** The list benchmark's tenants, one per size, apart so that other operations' tasks do not count. */
export const benchListTenant = (size: number): string => `bench-list-${size}`;

export interface Stack {
  temporalAddress: string;
  /** The Temporal server process, whose CPU time the benchmarks report. */
  server?: { pid: number };
  /** Temporal's Prometheus endpoint, when the benchmark started Temporal. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

/** `npm run bench -- --cluster` (or BENCH_CLUSTER=1): Temporal as `npm run start:cluster` runs it. */
export const onCluster = (): boolean =>
  process.argv.includes('--cluster') || process.env.BENCH_CLUSTER === '1';

/**
 * The Temporal tier of `npm run start:cluster`, on free ports and fresh data: PostgreSQL 15 and
 * the Temporal server built from Go modules, set up by `npm run temporal:setup`. No TLS, so that
 * its figures compare with the dev server's.
 */
async function startClusterTemporal(): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'task-api-bench-cluster-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user
  const cluster = await startCluster({
    port: await freePortRange(API_PORT_COUNT),
    temporalPort: await freePortRange(TEMPORAL_PORT_COUNT),
    dataDir,
    tls: false,
    namespace: 'default',
    env: {},
    temporalOnly: true,
    log: (line) => console.log(`[cluster] ${line}`),
  });
  const server = cluster.services.find((s) => s.spec.name === 'temporal-server');
  return {
    temporalAddress: `127.0.0.1:${cluster.ports.temporal}`,
    server: server?.pid ? { pid: server.pid } : undefined,
    metricsUrl: `http://127.0.0.1:${cluster.ports.temporalMetrics}/metrics`,
    stop: async () => {
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Uses TEMPORAL_ADDRESS when set; on the cluster with `--cluster`; otherwise starts an in-memory
 * dev server.
 */
export async function startTemporal(
  dynamicConfig?: Record<string, string | number | boolean>,
): Promise<Stack> {
  const external = process.env.TEMPORAL_ADDRESS;
  if (external) return { temporalAddress: external, stop: async () => {} };
  if (onCluster()) return startClusterTemporal();
  const dir = mkdtempSync(join(tmpdir(), 'task-api-bench-'));
  const metricsPort = await freePort();
  const server = await startDevServer({
    cliPath: resolveTemporalCli(process.env.TEMPORAL_CLI_PATH, new Logger('bench')),
    port: await freePort(),
    namespace: 'default',
    logFile: join(dir, 'temporal-server.log'),
    metricsPort,
    dynamicConfig,
  });
  return {
    temporalAddress: server.address,
    server,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    stop: () => server.stop(),
  };
}

/**
 * Requests Temporal's frontend has answered so far, by operation, from its Prometheus metrics
 * (the dev server's `service_requests` counter).
 */
export const temporalRequests = (metricsUrl: string): Promise<Map<string, number>> =>
  frontendCounts(metricsUrl, 'service_requests');

/** A counter of Temporal's frontend from its Prometheus metrics, summed by operation. */
async function frontendCounts(metricsUrl: string, metric: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) || !line.includes('service_name="frontend"')) continue;
    const operation = /operation="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (operation) counts.set(operation, (counts.get(operation) ?? 0) + value);
  }
  return counts;
}

/**
 * Calls Temporal's frontend has refused so far for load (RESOURCE_EXHAUSTED: a rate limit), by
 * operation. The client retries them after a backoff, so a benchmark that runs into a limit
 * measures the backoff: its figures are only worth reporting with this at zero.
 */
export const temporalRefusals = (metricsUrl: string): Promise<Map<string, number>> =>
  frontendCounts(metricsUrl, 'service_errors_resource_exhausted');

export function startWorker(
  temporalAddress: string,
  taskQueue: string,
  env: Record<string, string> = {},
): NodeProcess {
  return startNodeProcess('worker', {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    ...env,
  });
}

/**
 * An API process as deployed (production mode: JSON logs, keys from a key file), with one key
 * for the tenant and user the benchmarks start their own tasks as.
 */
export async function startApi(
  temporalAddress: string,
  taskQueue: string,
  {
    env = {},
    tenants = [],
  }: {
    /** More configuration of the API. */
    env?: Record<string, string>;
    /** More tenants to make a key for (by tenant in `tenantKeys`). */
    tenants?: string[];
  } = {},
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
      ...env,
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
