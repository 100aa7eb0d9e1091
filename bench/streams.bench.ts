/**
 * Event streams at scale, on two API instances: N watched tasks with one client
 * each, and many clients on one task. Per run: streams alive at the end, the time a stream takes
 * to open, event delivery latency (history event time to client receipt, for the events recorded
 * once the stream was open), API memory per stream (the instances' peak RSS while the streams
 * were open, over their peak running the same tasks unwatched), Temporal calls per second made
 * by the API instances, and the worker's task throughput against the same tasks unwatched.
 *
 *   npm run bench:streams       (BENCH_WATCHED=100,1000,5000  BENCH_WATCHERS=5000)
 *
 * The worker and both instances share a redis-server, as a deployment of several instances
 * does: change notices then wake the streams of tasks followed by tail reads. BENCH_REDIS=0
 * runs them without, each instance then reading those tasks on its own schedule.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import { startRedis } from '../test/support/redis';
import { waitFor } from '../test/support/wait';
import {
  cpuMs,
  mb,
  percentile,
  rssBytes,
  runBenchmark,
  startApi,
  startTemporal,
  startWorker,
  temporalRequests,
} from './stack';

const WATCHED = (process.env.BENCH_WATCHED ?? '100,1000,5000').split(',').map(Number);
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 5000);
/** What each task does: a few events spread over several seconds. */
const CONTEXT = { steps: 2, step_duration_ms: 4000 };
/** The calls the API makes to follow tasks. */
const API_OPERATIONS = [
  'DescribeWorkflowExecution',
  'GetWorkflowExecutionHistory',
  'GetWorkflowExecutionHistoryReverse',
];

/**
 * One SSE client that records how long its stream took to open (request to response headers),
 * when each event recorded after that arrived, and whether the stream ended with done.
 */
class Watcher {
  readonly latencies: number[] = [];
  /** When each of `latencies` was received (epoch ms). */
  readonly receivedAt: number[] = [];
  /** When the response headers came (epoch ms). */
  openedAt?: number;
  openMs?: number;
  done = false;
  failed?: string;
  private readonly abort = new AbortController();

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly dispatcher: Agent,
  ) {}

  async run(): Promise<void> {
    const asked = Date.now();
    try {
      const res = await fetch(this.url, {
        headers: { 'x-api-key': this.key },
        signal: this.abort.signal,
        dispatcher: this.dispatcher,
      });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      const opened = Date.now();
      this.openedAt = opened;
      this.openMs = opened - asked;
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith('event: done')) this.done = true;
          const data = block.split('\n').find((l) => l.startsWith('data: {'));
          if (!data) continue;
          const recorded = Date.parse(
            (JSON.parse(data.slice(6)) as { timestamp: string }).timestamp,
          );
          // Events recorded before the stream opened are replayed, not delivered live: what
          // opening costs is its own column.
          if (recorded >= opened) {
            const now = Date.now();
            this.latencies.push(now - recorded);
            this.receivedAt.push(now);
          }
        }
      }
    } catch (err) {
      if (!this.abort.signal.aborted) this.failed = (err as Error).message;
    }
  }

  close(): void {
    this.abort.abort();
  }
}

async function main(): Promise<void> {
  const stack = await startTemporal();
  const redis = process.env.BENCH_REDIS === '0' ? undefined : await startRedis();
  const env: Record<string, string> = redis ? { REDIS_URL: redis.url } : {};
  const taskQueue = `bench-streams-${randomUUID()}`;
  const worker = startWorker(stack.temporalAddress, taskQueue, env);
  const apis = [
    await startApi(stack.temporalAddress, taskQueue, { env }),
    await startApi(stack.temporalAddress, taskQueue, { env }),
  ];
  const dispatcher = new Agent({ connections: null, keepAliveTimeout: 60_000 });
  const submit = async (i: number): Promise<string> => {
    const api = apis[i % 2];
    const res = await api.client.request('POST', '/api/v1/tasks', {
      json: { query: 'stream bench', context: CONTEXT },
    });
    if (res.status !== 200) throw new Error(`submit: ${res.status} ${res.text}`);
    return res.body.task_id as string;
  };
  /** The task's status; undefined when the API could not answer this time (asked again). */
  const status = async (taskId: string): Promise<string | undefined> => {
    try {
      const res = await apis[0].client.request('GET', `/api/v1/tasks/${taskId}`);
      return res.status === 200 ? (res.body.status as string) : undefined;
    } catch {
      return undefined;
    }
  };

  /** Submits `n` tasks and waits for all of them to complete; seconds from first submit. */
  const runTasks = async (
    n: number,
    watch?: (taskIds: string[]) => Promise<void>,
  ): Promise<{ taskIds: string[]; seconds: number }> => {
    const started = Date.now();
    const taskIds: string[] = [];
    for (let i = 0; i < n; i += 100) {
      taskIds.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(100, n - i) }, (_, j) => submit(i + j)),
        )),
      );
    }
    const watching = watch?.(taskIds);
    await waitFor(
      `${n} tasks to complete`,
      async () => {
        for (const id of [taskIds[0], taskIds.at(-1)!, taskIds[taskIds.length >> 1]]) {
          if ((await status(id)) !== 'TASK_STATUS_COMPLETED') return false;
        }
        return true;
      },
      30 * 60_000,
    );
    await watching;
    return { taskIds, seconds: (Date.now() - started) / 1000 };
  };

  const rows: string[] = [];
  const measure = async (
    name: string,
    n: number,
    streamsFor: (ids: string[]) => { url: string; key: string }[],
  ) => {
    const rssOf = () => apis.reduce((sum, a) => sum + rssBytes(a.process.pid), 0);
    /** The most the instances hold while `run` runs, sampled every second. */
    const peakDuring = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
      let peak = rssOf();
      const sampling = setInterval(() => (peak = Math.max(peak, rssOf())), 1000);
      try {
        return [await run(), Math.max(peak, rssOf())];
      } finally {
        clearInterval(sampling);
      }
    };
    // The same tasks through the same instances without streams: what the streams add to
    // the instances' peak is theirs.
    /** CPU seconds each side of the load has used so far. */
    const cpuNow = () => ({
      apis: apis.reduce((sum, a) => sum + cpuMs(a.process.pid), 0) / 1000,
      temporal: stack.server ? cpuMs(stack.server.pid) / 1000 : NaN,
      worker: cpuMs(worker.pid) / 1000,
      load: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    });
    const cpuSpent = async <T>(run: () => Promise<T>): Promise<[T, ReturnType<typeof cpuNow>]> => {
      const before = cpuNow();
      const result = await run();
      const after = cpuNow();
      return [
        result,
        {
          apis: after.apis - before.apis,
          temporal: after.temporal - before.temporal,
          worker: after.worker - before.worker,
          load: after.load - before.load,
        },
      ];
    };
    const [[baseline, rssUnwatched], cpuUnwatched] = await cpuSpent(() =>
      peakDuring(() => runTasks(n)),
    );
    const watchers: Watcher[] = [];
    const callsBefore = stack.metricsUrl ? await temporalRequests(stack.metricsUrl) : undefined;
    const [[watched, rssWatched], cpuWatched] = await cpuSpent(() =>
      peakDuring(() =>
        runTasks(n, async (ids) => {
          const runs = streamsFor(ids).map(({ url, key }) => {
            const watcher = new Watcher(url, key, dispatcher);
            watchers.push(watcher);
            return watcher.run();
          });
          await Promise.all(runs);
        }),
      ),
    );
    const cpu = (side: keyof typeof cpuWatched) =>
      `${cpuUnwatched[side].toFixed(0)} → ${cpuWatched[side].toFixed(0)}`;
    console.error(
      `${name}: CPU seconds unwatched → watched: APIs ${cpu('apis')}, Temporal ${cpu('temporal')}, ` +
        `worker ${cpu('worker')}, load generator ${cpu('load')}`,
    );
    const callsAfter = stack.metricsUrl ? await temporalRequests(stack.metricsUrl) : undefined;
    const apiCalls =
      callsBefore && callsAfter
        ? API_OPERATIONS.reduce(
            (sum, op) => sum + (callsAfter.get(op) ?? 0) - (callsBefore.get(op) ?? 0),
            0,
          )
        : NaN;
    const latencies = watchers.flatMap((w) => w.latencies);
    const opening = watchers.flatMap((w) => (w.openMs === undefined ? [] : [w.openMs]));
    // Once every stream is open: what a dashboard that opened them earlier meets, apart from
    // the storm of opening them all at once.
    const allOpen = Math.max(...watchers.map((w) => w.openedAt ?? Infinity));
    const steady = watchers.flatMap((w) => w.latencies.filter((_, i) => w.receivedAt[i] > allOpen));
    const alive = watchers.filter((w) => w.done && !w.failed).length;
    const perStream = rssWatched - rssUnwatched;
    rows.push(
      `| ${name} | ${alive} / ${watchers.length} | ${percentile(opening, 50)} / ${percentile(opening, 99)} | ` +
        `${percentile(latencies, 50)} / ${percentile(latencies, 99)} | ` +
        `${percentile(steady, 50)} / ${percentile(steady, 99)} (${steady.length}) | ` +
        `${(perStream / watchers.length / 1024).toFixed(1)} KB | ${(apiCalls / watched.seconds).toFixed(0)} | ` +
        `${(n / watched.seconds).toFixed(1)} / ${(n / baseline.seconds).toFixed(1)} |`,
    );
    // Delivery over the run, by 30 s from the first stream opened: where the late events are.
    const firstOpen = Math.min(...watchers.map((w) => w.openedAt ?? Infinity));
    const buckets = new Map<number, number[]>();
    for (const w of watchers) {
      w.latencies.forEach((latency, i) => {
        const bucket = Math.floor((w.receivedAt[i] - firstOpen) / 30_000);
        buckets.set(bucket, [...(buckets.get(bucket) ?? []), latency]);
      });
    }
    for (const [bucket, values] of [...buckets].sort(([a], [b]) => a - b)) {
      console.error(
        `${name}: from ${bucket * 30} s: ${values.length} events, delivery p50 / p99 ` +
          `${percentile(values, 50)} / ${percentile(values, 99)} ms`,
      );
    }
    for (const w of watchers) w.close();
    const failures = watchers.filter((w) => w.failed).map((w) => w.failed);
    if (failures.length)
      console.error(`${name}: ${failures.length} streams failed: ${failures[0]}`);
  };

  /** Streams alternate between the two instances, each with its own key. */
  const streamUrl = (i: number, id: string) => ({
    url: `${apis[i % 2].url}/api/v1/tasks/${id}/stream`,
    key: apis[i % 2].key,
  });
  try {
    for (const n of WATCHED) {
      await measure(`${n} watched tasks, one client each`, n, (ids) =>
        ids.map((id, i) => streamUrl(i, id)),
      );
      console.error(rows.at(-1));
    }
    if (WATCHERS > 0) {
      await measure(`${WATCHERS} clients on one task`, 1, ([id]) =>
        Array.from({ length: WATCHERS }, (_, i) => streamUrl(i, id)),
      );
    }
    console.log(
      '\n| streams | alive at the end | open p50 / p99 ms | delivery p50 / p99 ms | delivery once all were open p50 / p99 ms (events) | API RSS per stream (peak over unwatched peak) | Temporal calls/s by the APIs | tasks/s watched / unwatched |',
    );
    console.log(`|${' --- |'.repeat(8)}`);
    for (const row of rows) console.log(row);
    console.log(`\nAPI RSS at the end: ${apis.map((a) => mb(rssBytes(a.process.pid))).join(', ')}`);
    console.log(redis ? 'Change notices through Redis.' : 'No Redis: no change notices.');
  } finally {
    await dispatcher.close();
    await Promise.all(apis.map((a) => a.process.stop()));
    await worker.stop();
    await stack.stop();
    await redis?.stop();
  }
}

runBenchmark(main);
