/**
 * What the API adds on top of Temporal: each task operation through the API against a
 * bare @temporalio/client program making the same Temporal calls, same concurrency, same run.
 *
 *   npm run bench      (BENCH_REQUESTS=800 per measurement at concurrency 32, a sixth of that at 1)
 */
import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import {
  RESUME_SIGNAL,
  TASK_WORKFLOW_TYPE,
  TaskInput,
  taskStartRecord,
} from '../src/workflows/contract';
import { registerSearchAttributes } from '../src/temporal/temporal-setup';
import { waitFor } from '../test/support/wait';
import {
  BENCH_TENANT,
  BENCH_USER,
  mb,
  percentile,
  cpuMs,
  rssBytes,
  startApi,
  startTemporal,
  startWorker,
  runBenchmark,
  benchListTenant,
} from './stack';
import { LIST_SIZES, benchList } from './list';

const AT_32 = Number(process.env.BENCH_REQUESTS ?? 800);
const AT_1 = Math.max(20, Math.round(AT_32 / 6));
const CONCURRENCIES = [1, 32];
/** Each comparison alternates API and bare this many times. */
const ROUNDS = 4;
/** Resumes each side makes before measuring, so the JIT has compiled the resume path. */
const WARM_RESUMES = 64;
/**
 * BENCH_OPS=status,resume measures only those operations (e.g. while profiling one); `list` is
 * the list table (bench/list.ts), which starts 10,000 tasks first (a few minutes).
 */
const OPS = new Set((process.env.BENCH_OPS ?? 'resume,submit,status,list').split(','));

/** CPU milliseconds, by process. */
interface Cpu {
  api: number;
  temporal: number;
  client: number;
}

/** One run of operations: each one's latency, the time and CPU they took together. */
interface Sample {
  latencies: number[];
  seconds: number;
  cpu: Cpu;
}

interface Result {
  throughput: number;
  p50: number;
  p99: number;
  /** CPU milliseconds per operation, by process. */
  cpu: Cpu;
}

/** The processes whose CPU time a measurement accounts for. */
interface Processes {
  api: number;
  temporal?: number;
}

function cpuNow(processes: Processes): Cpu {
  const own = process.cpuUsage();
  return {
    api: cpuMs(processes.api),
    temporal: processes.temporal === undefined ? NaN : cpuMs(processes.temporal),
    client: (own.user + own.system) / 1000,
  };
}

/** Runs operations `from` to `to` - 1 with `concurrency` in flight. */
async function measure(
  processes: Processes,
  concurrency: number,
  [from, to]: [number, number],
  op: (i: number) => Promise<void>,
): Promise<Sample> {
  const latencies: number[] = [];
  let next = from;
  const before = cpuNow(processes);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) {
        const i = next++;
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = cpuNow(processes);
  return {
    latencies,
    seconds,
    cpu: {
      api: after.api - before.api,
      temporal: after.temporal - before.temporal,
      client: after.client - before.client,
    },
  };
}

/**
 * Waits (up to 30 s) until Temporal has been nearly idle for half a second, so that one
 * measurement does not pay for work Temporal deferred from the one before (timers, task queues).
 */
async function temporalQuiet(processes: Processes): Promise<void> {
  if (processes.temporal === undefined) return;
  const pid = processes.temporal;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const before = cpuMs(pid);
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (cpuMs(pid) - before < 50) return; // under a tenth of a core
  }
}

function summarize(samples: Sample[]): Result {
  const latencies = samples.flatMap((s) => s.latencies);
  const seconds = samples.reduce((sum, s) => sum + s.seconds, 0);
  const perOp = (key: keyof Cpu) =>
    samples.reduce((sum, s) => sum + s.cpu[key], 0) / latencies.length;
  return {
    throughput: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpu: { api: perOp('api'), temporal: perOp('temporal'), client: perOp('client') },
  };
}

async function main(): Promise<void> {
  const stack = await startTemporal();
  const taskQueue = `bench-${randomUUID()}`;
  const worker = startWorker(stack.temporalAddress, taskQueue);
  const api = await startApi(stack.temporalAddress, taskQueue, {
    tenants: OPS.has('list') ? LIST_SIZES.map(benchListTenant) : [],
  });
  const client = new Client({
    connection: await Connection.connect({ address: stack.temporalAddress }),
  });
  // Tasks are started bare below: their search attributes must exist first, and the worker
  // registering them as it starts may not have got there yet.
  await registerSearchAttributes(client.connection.operatorService, 'default');
  const pools = new Map(CONCURRENCIES.map((c) => [c, new Pool(api.url, { connections: c })]));
  const headers = { 'x-api-key': api.key, 'content-type': 'application/json' };

  const http = async (
    concurrency: number,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    expect = 200,
  ) => {
    const res = await pools.get(concurrency)!.request({
      method,
      path,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== expect) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
    return text;
  };

  // What the API sends to Temporal for a submit, made by hand.
  const bareStart = async (query: string, context: Record<string, unknown>) => {
    const sessionId = randomUUID();
    const input: TaskInput = {
      query,
      session_id: sessionId,
      tenant_id: BENCH_TENANT,
      user_id: BENCH_USER,
      mode: 'standard',
      context,
    };
    const { memo, searchAttributes } = taskStartRecord(input, 'x');
    const handle = await client.workflow.start(TASK_WORKFLOW_TYPE, {
      workflowId: `task_${randomUUID()}`,
      taskQueue,
      args: [input],
      memo,
      typedSearchAttributes: searchAttributes,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return handle.workflowId;
  };

  const processes: Processes = { api: api.process.pid, temporal: stack.server?.pid };
  const idle = rssBytes(api.process.pid);
  let peak = idle;
  /** The peak since the current comparison began. */
  let rowPeak = idle;
  const sampler = setInterval(() => {
    const rss = rssBytes(api.process.pid);
    peak = Math.max(peak, rss);
    rowPeak = Math.max(rowPeak, rss);
  }, 100);

  try {
    // Tasks to read: closed ones, so every read sees the same history.
    const readable = await Promise.all(
      Array.from({ length: 50 }, () => bareStart('status', { steps: 1, step_duration_ms: 0 })),
    );
    // Tasks to resume: each paused at its first checkpoint by the worker, which then stops.
    const resumeCount = OPS.has('resume')
      ? 2 * (WARM_RESUMES + CONCURRENCIES.reduce((n, c) => n + (c === 1 ? AT_1 : AT_32), 0))
      : 0;
    const paused: string[] = [];
    for (let i = 0; i < resumeCount; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, resumeCount - i) }, async () => {
          const id = await bareStart('resume', { steps: 1, step_duration_ms: 0 });
          await client.workflow
            .getHandle(id)
            .signal('pause_v1', { reason: '', requested_by: BENCH_USER });
          return id;
        }),
      );
      paused.push(...batch);
    }
    await waitFor(
      'tasks to settle at their checkpoints',
      async () => {
        for (const id of [...readable.slice(-1), ...paused.slice(-5)]) {
          const { memo, status } = await client.workflow.getHandle(id).describe();
          const progress = memo?.progress as { waiting?: boolean } | undefined;
          if (status.name === 'RUNNING' && !progress?.waiting) return false;
        }
        return true;
      },
      120_000,
    );
    await worker.stop();

    const apiResume = async (concurrency: number, id: string) =>
      void (await http(concurrency, 'POST', `/api/v1/tasks/${id}/resume`, undefined, 202));
    // The API decides a resume from one describe call, then signals.
    const bareResume = async (id: string) => {
      await client.workflowService.describeWorkflowExecution({
        namespace: 'default',
        execution: { workflowId: id },
      });
      await client.workflow
        .getHandle(id)
        .signal(RESUME_SIGNAL, { reason: '', requested_by: BENCH_USER });
    };

    // Warm both sides up (JIT, connection pools) before anything is measured.
    if (resumeCount > 0) {
      const [viaApi, bare] = [paused.slice(0, WARM_RESUMES), paused.slice(WARM_RESUMES)];
      await measure(processes, 8, [0, WARM_RESUMES], (i) => apiResume(32, viaApi[i]));
      await measure(processes, 8, [0, WARM_RESUMES], (i) => bareResume(bare[i]));
    }
    for (const c of CONCURRENCIES) {
      await measure(
        processes,
        c,
        [0, 64],
        async (i) => void (await http(c, 'GET', `/api/v1/tasks/${readable[i % 50]}`)),
      );
      await measure(
        processes,
        c,
        [0, 16],
        async () => void (await http(c, 'POST', '/api/v1/tasks', { query: 'warm' })),
      );
    }
    await measure(
      processes,
      8,
      [0, 64],
      async (i) => void (await client.workflow.getHandle(readable[i % 50]).describe()),
    );
    await measure(processes, 8, [0, 16], async () => void (await bareStart('warm', {})));

    const rows: string[][] = [];
    const compare = async (
      name: string,
      concurrency: number,
      total: number,
      viaApi: (i: number) => Promise<void>,
      bare: (i: number) => Promise<void>,
    ) => {
      if (!OPS.has(name)) return;
      // Alternate the two sides, so that neither always runs first, nor always pays for work
      // Temporal defers (timers, task queue writes) from the run before it.
      rowPeak = 0;
      const viaApiSamples: Sample[] = [];
      const bareSamples: Sample[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const slice: [number, number] = [
          Math.floor((round * total) / ROUNDS),
          Math.floor(((round + 1) * total) / ROUNDS),
        ];
        const [first, second] = round % 2 === 0 ? [viaApi, bare] : [bare, viaApi];
        const [firstSamples, secondSamples] =
          round % 2 === 0 ? [viaApiSamples, bareSamples] : [bareSamples, viaApiSamples];
        await temporalQuiet(processes);
        firstSamples.push(await measure(processes, concurrency, slice, first));
        await temporalQuiet(processes);
        secondSamples.push(await measure(processes, concurrency, slice, second));
      }
      const a = summarize(viaApiSamples);
      const b = summarize(bareSamples);
      rows.push([
        name,
        String(concurrency),
        `${a.throughput.toFixed(0)} / ${b.throughput.toFixed(0)}`,
        (a.throughput / b.throughput).toFixed(2),
        `${a.p50.toFixed(1)} / ${b.p50.toFixed(1)}`,
        (a.p50 - b.p50).toFixed(1),
        `${a.p99.toFixed(1)} / ${b.p99.toFixed(1)}`,
        a.cpu.api.toFixed(2),
        `${a.cpu.temporal.toFixed(2)} / ${b.cpu.temporal.toFixed(2)}`,
        `${a.cpu.client.toFixed(2)} / ${b.cpu.client.toFixed(2)}`,
        (rowPeak / 1024 / 1024).toFixed(0),
      ]);
    };

    let resumed = 2 * WARM_RESUMES;
    for (const c of CONCURRENCIES) {
      const total = c === 1 ? AT_1 : AT_32;
      const apiTasks = paused.slice(resumed, resumed + total);
      const bareTasks = paused.slice(resumed + total, resumed + 2 * total);
      resumed += 2 * total;
      await compare(
        'resume',
        c,
        total,
        (i) => apiResume(c, apiTasks[i]),
        (i) => bareResume(bareTasks[i]),
      );
    }
    for (const c of CONCURRENCIES) {
      const total = c === 1 ? AT_1 : AT_32;
      await compare(
        'submit',
        c,
        total,
        async () =>
          void (await http(c, 'POST', '/api/v1/tasks', { query: 'bench', context: { steps: 1 } })),
        async () => void (await bareStart('bench', { steps: 1 })),
      );
    }
    for (const c of CONCURRENCIES) {
      const total = c === 1 ? AT_1 : AT_32;
      await compare(
        'status',
        c,
        total,
        async (i) => void (await http(c, 'GET', `/api/v1/tasks/${readable[i % readable.length]}`)),
        async (i) =>
          void (await client.workflow.getHandle(readable[i % readable.length]).describe()),
      );
    }
    clearInterval(sampler);

    if (rows.length > 0) {
      console.log(
        '\n| operation | concurrency | req/s API / bare | ratio | p50 ms API / bare | added p50 ms | p99 ms API / bare |' +
          ' API CPU ms/op | Temporal CPU ms/op API / bare | client CPU ms/op API / bare | API RSS peak MB |',
      );
      console.log(`|${' --- |'.repeat(11)}`);
      for (const row of rows) console.log(`| ${row.join(' | ')} |`);
      console.log(`\nAPI resident memory: idle ${mb(idle)}, peak under load ${mb(peak)}`);
    }

    if (OPS.has('list')) {
      const listPool = new Pool(api.url, { connections: 1 });
      try {
        await benchList({
          client,
          namespace: 'default',
          metricsUrl: stack.metricsUrl,
          get: async (size, path) => {
            const res = await listPool.request({
              method: 'GET',
              path,
              headers: { 'x-api-key': api.tenantKeys[benchListTenant(size)] },
            });
            const text = await res.body.text();
            if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode} ${text}`);
            return text;
          },
        });
      } finally {
        await listPool.close();
      }
    }
  } finally {
    clearInterval(sampler);
    await Promise.all([...pools.values()].map((p) => p.close()));
    await client.connection.close();
    await api.process.stop();
    await worker.stop();
    await stack.stop();
  }
}

runBenchmark(main);
