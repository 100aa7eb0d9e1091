/**
 * How the cost of control and reads grows with a task's history: a pause + resume
 * cycle, status, control-state and an SSE replay from near the end, through the API and through
 * a bare @temporalio/client making the calls the API needs, at histories of ~10, ~1,000 and
 * ~5,000 events, in one run. Then throughput at concurrency 32 while the histories grow, and
 * 100 concurrent pauses of just-started tasks. The control cycle and status are measured a third
 * way too, through the HTTP floor (bench/http-floor.ts): what an HTTP hop in front of Temporal
 * costs on this machine before the API does anything of its own.
 *
 *   npm run bench:history      (BENCH_SAMPLES=30 per operation and size)
 */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import {
  PAUSE_SIGNAL,
  RESUME_SIGNAL,
  TASK_WORKFLOW_TYPE,
  TaskInput,
  taskStartRecord,
} from '../src/workflows/contract';
import { waitFor } from '../test/support/wait';
import { startHttpFloor } from './http-floor';
import {
  BENCH_TENANT,
  BENCH_USER,
  percentile,
  runBenchmark,
  startApi,
  startTemporal,
  startWorker,
} from './stack';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 30);
const SIZES = [10, 1000, 5000];
const TASKS_PER_SIZE = 4;
const CONCURRENT_TASKS = 32;
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

interface Row {
  name: string;
  size: number;
  api: number[];
  /** The same through the HTTP floor (bench/http-floor.ts); absent where it has no route. */
  floor?: number[];
  bare: number[];
}

async function main(): Promise<void> {
  const stack = await startTemporal();
  const taskQueue = `bench-history-${randomUUID()}`;
  const worker = startWorker(stack.temporalAddress, taskQueue);
  const api = await startApi(stack.temporalAddress, taskQueue);
  const floor = await startHttpFloor(stack.temporalAddress);
  const client = new Client({
    connection: await Connection.connect({ address: stack.temporalAddress }),
  });
  const namespace = 'default';
  const pool = new Pool(api.url, { connections: CONCURRENT_TASKS });
  const floorPool = new Pool(floor.url, { connections: CONCURRENT_TASKS });
  /** Requests to one HTTP service; each must answer `expect`. */
  const requester =
    (target: Pool, headers: Record<string, string>) =>
    async (method: 'GET' | 'POST', path: string, expect: number, body?: unknown) => {
      const res = await target.request({
        method,
        path,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      if (res.statusCode !== expect) {
        throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
      }
      return text;
    };
  const http = requester(pool, { 'x-api-key': api.key, 'content-type': 'application/json' });
  const viaFloor = requester(floorPool, {});
  const floorCycle = async (id: string) => {
    await viaFloor('POST', `/tasks/${id}/pause`, 202);
    await viaFloor('POST', `/tasks/${id}/resume`, 202);
  };

  /** A task that runs one very long step, so it stays open while its history grows. */
  const start = async (): Promise<string> => {
    const input: TaskInput = {
      query: 'history growth',
      session_id: randomUUID(),
      tenant_id: BENCH_TENANT,
      user_id: BENCH_USER,
      mode: 'standard',
      context: { steps: 50, step_duration_ms: 60_000 },
    };
    const { memo, searchAttributes } = taskStartRecord(input, 'x');
    const handle = await client.workflow.start(TASK_WORKFLOW_TYPE, {
      workflowId: `task_${randomUUID()}`,
      taskQueue,
      args: [input],
      memo,
      typedSearchAttributes: searchAttributes,
    });
    return handle.workflowId;
  };
  const describe = (id: string) =>
    client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: id } });
  const length = async (id: string) =>
    Number((await describe(id)).workflowExecutionInfo?.historyLength ?? 0);
  /**
   * Pause/resume pairs straight to Temporal until the history has `size` events, then until
   * the workflow has processed them: the API sees signals from other clients only then, and
   * would find the task still paused.
   */
  const grow = async (id: string, size: number) => {
    const handle = client.workflow.getHandle(id);
    const request = { reason: 'growth', requested_by: BENCH_USER };
    while ((await length(id)) < size) {
      for (let i = 0; i < 10; i++) {
        await handle.signal(PAUSE_SIGNAL, request);
        await handle.signal(RESUME_SIGNAL, request);
      }
    }
    await waitFor(
      `${id} to process its signals`,
      async () => !(await describe(id)).pendingWorkflowTask,
      60_000,
    );
  };

  const timed = async (op: () => Promise<unknown>): Promise<number> => {
    const t0 = performance.now();
    await op();
    return performance.now() - t0;
  };

  // What the API needs from Temporal for each operation, made by hand.
  const bareSignal = async (id: string, name: string) => {
    await describe(id);
    await client.workflow.getHandle(id).signal(name, { reason: '', requested_by: BENCH_USER });
  };
  const lastEvents = (id: string, n: number) =>
    client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace,
      execution: { workflowId: id },
      maximumPageSize: n,
    });

  /** Time until the first replayed event of a stream from `after` arrives. */
  const firstReplayed = async (id: string, after: number): Promise<number> => {
    const abort = new AbortController();
    const t0 = performance.now();
    const res = await fetch(`${api.url}/api/v1/tasks/${id}/stream`, {
      headers: { 'x-api-key': api.key, 'last-event-id': String(after) },
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\nid: ') && !text.startsWith('id: ')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream of ${id} ended before an event`);
      text += new TextDecoder().decode(value);
    }
    const elapsed = performance.now() - t0;
    abort.abort();
    await reader.cancel().catch(() => undefined);
    return elapsed;
  };

  try {
    const rows: Row[] = [];
    for (const size of SIZES) {
      // Each side controls tasks of its own: the API's decisions never meet the other sides'
      // signals (which its ledger does not know), and all sides' histories grow alike.
      const tasks = await Promise.all(Array.from({ length: 3 * TASKS_PER_SIZE }, () => start()));
      await Promise.all(tasks.map((id) => grow(id, size)));
      const apiTasks = tasks.slice(0, TASKS_PER_SIZE);
      const bareTasks = tasks.slice(TASKS_PER_SIZE, 2 * TASKS_PER_SIZE);
      const floorTasks = tasks.slice(2 * TASKS_PER_SIZE);
      const lengths = await Promise.all(tasks.map(length));
      console.error(`histories of ${lengths.join(', ')} events`);
      const row = (name: string, withFloor = false): Row => {
        const r = {
          name,
          size: Math.round(lengths.reduce((a, b) => a + b) / lengths.length),
          api: [],
          floor: withFloor ? [] : undefined,
          bare: [],
        };
        rows.push(r);
        return r;
      };
      const cycle = row('pause + resume', true);
      const status = row('status', true);
      const control = row('control-state');
      const replay = row('SSE replay, first event');
      for (let i = 0; i < SAMPLES; i++) {
        const id = apiTasks[i % TASKS_PER_SIZE];
        const bareId = bareTasks[i % TASKS_PER_SIZE];
        const floorId = floorTasks[i % TASKS_PER_SIZE];
        // Rotate which side goes first.
        const sides = [
          async () => {
            cycle.api.push(
              await timed(async () => {
                await http('POST', `/api/v1/tasks/${id}/pause`, 202);
                await http('POST', `/api/v1/tasks/${id}/resume`, 202);
              }),
            );
            status.api.push(await timed(() => http('GET', `/api/v1/tasks/${id}`, 200)));
            control.api.push(
              await timed(() => http('GET', `/api/v1/tasks/${id}/control-state`, 200)),
            );
            // About 20 events before the end (from the start on a history shorter than that).
            const last = Math.max(0, (await length(id)) - 20);
            replay.api.push(await firstReplayed(id, last));
          },
          async () => {
            cycle.bare.push(
              await timed(async () => {
                await bareSignal(bareId, PAUSE_SIGNAL);
                await bareSignal(bareId, RESUME_SIGNAL);
              }),
            );
            status.bare.push(await timed(() => describe(bareId)));
            control.bare.push(await timed(() => describe(bareId)));
            replay.bare.push(await timed(() => lastEvents(bareId, 20)));
          },
          async () => {
            cycle.floor!.push(await timed(() => floorCycle(floorId)));
            status.floor!.push(await timed(() => viaFloor('GET', `/tasks/${floorId}`, 200)));
          },
        ];
        for (let turn = 0; turn < i % sides.length; turn++) sides.push(sides.shift()!);
        for (const side of sides) await side();
      }
      await Promise.all(tasks.map((id) => client.workflow.getHandle(id).terminate('measured')));
    }

    console.log(
      '\n| operation | history events | p50 ms API / bare | ratio | p99 ms API / bare | API growth from ~10 | p50 ms HTTP floor (ratio to bare) |',
    );
    console.log(`|${' --- |'.repeat(7)}`);
    for (const r of rows) {
      const base = rows.find((b) => b.name === r.name && b.size === rows[0].size)!;
      const p50 = percentile(r.api, 50);
      const bare50 = percentile(r.bare, 50);
      const floor50 = r.floor ? percentile(r.floor, 50) : undefined;
      console.log(
        `| ${r.name} | ${r.size} | ${p50.toFixed(1)} / ${bare50.toFixed(1)} | ` +
          `${(p50 / bare50).toFixed(2)} | ${percentile(r.api, 99).toFixed(1)} / ` +
          `${percentile(r.bare, 99).toFixed(1)} | ${(p50 / percentile(base.api, 50)).toFixed(2)} | ` +
          `${floor50 === undefined ? '–' : `${floor50.toFixed(1)} (${(floor50 / bare50).toFixed(2)})`} |`,
      );
    }

    // Throughput at concurrency 32 on tasks whose histories grow as they are controlled.
    const busy = await Promise.all(Array.from({ length: 3 * CONCURRENT_TASKS }, () => start()));
    await Promise.all(busy.map((id) => grow(id, 1000)));
    const run = async (op: (id: string) => Promise<unknown>, ids: string[]): Promise<number> => {
      let done = 0;
      const until = performance.now() + THROUGHPUT_SECONDS * 1000;
      await Promise.all(
        ids.map(async (id) => {
          while (performance.now() < until) {
            await op(id);
            done++;
          }
        }),
      );
      return done / THROUGHPUT_SECONDS;
    };
    const throughput: string[] = [];
    const compare = async (
      name: string,
      viaApi: (id: string) => Promise<unknown>,
      bare: (id: string) => Promise<unknown>,
      floored: (id: string) => Promise<unknown>,
    ) => {
      const [apiIds, bareIds, floorIds] = [0, 1, 2].map((k) =>
        busy.slice(k * CONCURRENT_TASKS, (k + 1) * CONCURRENT_TASKS),
      );
      const before = await length(busy[0]);
      const a1 = await run(viaApi, apiIds);
      const f1 = await run(floored, floorIds);
      const b1 = await run(bare, bareIds);
      const b2 = await run(bare, bareIds);
      const f2 = await run(floored, floorIds);
      const a2 = await run(viaApi, apiIds);
      const after = await length(busy[0]);
      throughput.push(
        `| ${name} | ${before} → ${after} | ${((a1 + a2) / 2).toFixed(0)} / ${((b1 + b2) / 2).toFixed(0)} | ` +
          `${((a1 + a2) / (b1 + b2)).toFixed(2)} | ${((f1 + f2) / 2).toFixed(0)} (${((f1 + f2) / (b1 + b2)).toFixed(2)}) |`,
      );
    };
    await compare(
      'pause + resume',
      async (id) => {
        await http('POST', `/api/v1/tasks/${id}/pause`, 202);
        await http('POST', `/api/v1/tasks/${id}/resume`, 202);
      },
      async (id) => {
        await bareSignal(id, PAUSE_SIGNAL);
        await bareSignal(id, RESUME_SIGNAL);
      },
      floorCycle,
    );
    await compare(
      'status',
      (id) => http('GET', `/api/v1/tasks/${id}`, 200),
      (id) => describe(id),
      (id) => viaFloor('GET', `/tasks/${id}`, 200),
    );
    console.log(
      '\n| concurrency 32 | history events (one task) | ops/s API / bare | ratio | ops/s HTTP floor (ratio to bare) |',
    );
    console.log(`|${' --- |'.repeat(5)}`);
    for (const line of throughput) console.log(line);
    await Promise.all(busy.map((id) => client.workflow.getHandle(id).terminate('measured')));

    // 100 concurrent pauses of just-started tasks: no settle wait on the hot path. The bare
    // side pauses 100 just-started tasks of its own with describe + signal, at the same time.
    // Steps long enough that no task ends before its pause, however slowly the 200 starts go.
    const context = { steps: 2, step_duration_ms: 60_000 };
    const fresh = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = JSON.parse(
          await http('POST', '/api/v1/tasks', 200, { query: 'fresh', context }),
        ) as { task_id: string };
        return res.task_id;
      }),
    );
    const bareFresh = await Promise.all(Array.from({ length: 100 }, () => start()));
    const [pauses, barePauses] = await Promise.all([
      Promise.all(fresh.map((id) => timed(() => http('POST', `/api/v1/tasks/${id}/pause`, 202)))),
      Promise.all(bareFresh.map((id) => timed(() => bareSignal(id, PAUSE_SIGNAL)))),
    ]);
    const p = (values: number[]) =>
      `p50 ${percentile(values, 50).toFixed(0)} ms, p99 ${percentile(values, 99).toFixed(0)} ms`;
    console.log(
      `\n100 concurrent pauses of just-started tasks, API: ${p(pauses)}; bare, at the same time: ${p(barePauses)}`,
    );
    // Clean-up only: a task that has closed by itself meanwhile needs no terminating.
    await Promise.all(
      [...fresh, ...bareFresh].map((id) =>
        client.workflow
          .getHandle(id)
          .terminate('measured')
          .catch((err: unknown) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          }),
      ),
    );
  } catch (err) {
    // Print it before the clean-up: a Temporal call still retrying on a closed connection
    // would otherwise end the process with only its own error.
    console.error(err);
    throw err;
  } finally {
    await pool.close();
    await floorPool.close();
    floor.stop();
    await client.connection.close();
    await api.process.stop();
    await worker.stop();
    await stack.stop();
  }
}

runBenchmark(main);
