/**
 * The list table of `npm run bench` (issue 17): GET /api/v1/tasks against the bare visibility
 * call of the same page, at 100, 1,000 and 10,000 tasks in one tenant.
 *
 * Two bare sides, each the Temporal calls of one page made directly with the same filter (for
 * the deep page: within the window of execution times the cursor's page lies in):
 * - "list alone": one ListWorkflowExecutions of the page's 20 rows, as a client of Temporal would
 *   read "some 20 tasks": unsorted, uncounted, statuses as visibility last recorded them;
 * - "list, count, describes": that, CountWorkflowExecutions beside it, and a describe of each
 *   open task listed: the calls an exact page needs (the API reads open tasks as GET does, and
 *   its GET is a describe when it has folded the task's history before).
 *
 * The tasks are started bare on a task queue no worker polls, so they stay queued and cost
 * Temporal nothing after their start. One tenant grows from size to size. Against an external
 * Temporal (TEMPORAL_ADDRESS) the tenant's tasks of an earlier run are reused.
 */
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { decodeCursor } from '../src/tasks/list-cursor';
import { formatNanos } from '../src/tasks/task-list.service';
import { TASK_WORKFLOW_TYPE, TaskInput, taskStartRecord } from '../src/workflows/contract';
import { waitFor } from '../test/support/wait';
import { BENCH_LIST_TENANT, BENCH_USER, percentile } from './stack';

const SIZES = (process.env.BENCH_LIST_SIZES ?? '100,1000,10000').split(',').map(Number);
/** Requests per side and page, in ROUNDS alternating rounds. */
const REQUESTS = Number(process.env.BENCH_LIST_REQUESTS ?? 60);
const ROUNDS = 4;
const LIMIT = 20;
const SESSIONS = 4;
/** No worker polls this queue: the tasks stay queued. */
const IDLE_QUEUE = 'bench-list-idle';
const BASE_QUERY = `WorkflowType = '${TASK_WORKFLOW_TYPE}' AND TenantId = '${BENCH_LIST_TENANT}'`;

export interface ListBenchDeps {
  client: Client;
  namespace: string;
  /** GET `path` from the API with the list tenant's key; the body. */
  get: (path: string) => Promise<string>;
}

interface ListPage {
  tasks: { task_id: string; created_at: string }[];
  total_count: number;
  next_cursor: string | null;
}

interface Timing {
  p50: number;
  p99: number;
}

async function timed(n: number, op: () => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op();
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

/** The sides in alternating rounds, so that none always runs first. */
async function compare(sides: (() => Promise<unknown>)[]): Promise<Timing[]> {
  const latencies: number[][] = sides.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    const n = Math.ceil(REQUESTS / ROUNDS);
    const order = sides.map((_, i) => (i + round) % sides.length);
    for (const i of order) latencies[i].push(...(await timed(n, sides[i])));
  }
  return latencies.map((xs) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) }));
}

export async function benchList({ client, namespace, get }: ListBenchDeps): Promise<void> {
  const service = client.workflowService;
  const count = async (): Promise<number> =>
    Number((await service.countWorkflowExecutions({ namespace, query: BASE_QUERY })).count ?? 0);
  const bareList = (query: string) =>
    service.listWorkflowExecutions({ namespace, query, pageSize: LIMIT });
  const bareExact = (query: string) =>
    Promise.all([
      service.countWorkflowExecutions({ namespace, query }),
      bareList(query).then(({ executions }) =>
        Promise.all(
          (executions ?? [])
            .filter((e) => !e.closeTime)
            .map((e) => service.describeWorkflowExecution({ namespace, execution: e.execution })),
        ),
      ),
    ]);
  const list = async (query: string): Promise<ListPage> => JSON.parse(await get(query)) as ListPage;

  const startTasks = async (n: number): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < n) {
          const i = next++;
          const input: TaskInput = {
            query: `list bench ${i}`,
            session_id: `s${i % SESSIONS}`,
            tenant_id: BENCH_LIST_TENANT,
            user_id: BENCH_USER,
            mode: 'standard',
            context: {},
          };
          const { memo, searchAttributes } = taskStartRecord(input, 'x');
          await client.workflow.start(TASK_WORKFLOW_TYPE, {
            workflowId: `task_${randomUUID()}`,
            taskQueue: IDLE_QUEUE,
            args: [input],
            memo,
            typedSearchAttributes: searchAttributes,
          });
        }
      }),
    );
  };

  const rows: string[][] = [];
  const firstPageP50: number[] = [];
  const deepPageP50: number[] = [];
  const filteredP50: number[] = [];
  for (const size of SIZES) {
    const existing = await count();
    if (existing < size) {
      const t0 = performance.now();
      await startTasks(size - existing);
      console.error(
        `list bench: started ${size - existing} tasks in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
    }
    const total = await waitFor(
      'visibility to show every task',
      async () => {
        const n = await count();
        return n >= size ? n : undefined;
      },
      120_000,
    );

    // A cursor half way down, reached by walking there as a client does; the walk is checked.
    const seen = new Set<string>();
    let cursor: string | null = null;
    let previous = '';
    while (seen.size < total / 2) {
      const page: ListPage = await list(
        `/api/v1/tasks?limit=${LIMIT}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      for (const task of page.tasks) {
        if (seen.has(task.task_id)) throw new Error(`${task.task_id} listed twice`);
        if (previous && task.created_at > previous) throw new Error('list out of order');
        seen.add(task.task_id);
        previous = task.created_at;
      }
      cursor = page.next_cursor;
      if (!cursor) throw new Error(`the list ended after ${seen.size} of ${total} tasks`);
    }
    const deepCursor = cursor!;
    const { after, hintNs = 0n } = decodeCursor(deepCursor);
    const deepWindow =
      `ExecutionTime >= '${formatNanos(after.at - hintNs)}' AND ` +
      `ExecutionTime <= '${formatNanos(after.at)}'`;

    const deepQuery = `${BASE_QUERY} AND ${deepWindow}`;
    const filteredQuery = `${BASE_QUERY} AND SessionId = 's3'`;
    const first = await compare([
      () => get(`/api/v1/tasks?limit=${LIMIT}`),
      () => bareExact(BASE_QUERY),
      () => bareList(BASE_QUERY),
    ]);
    const deep = await compare([
      () => get(`/api/v1/tasks?limit=${LIMIT}&cursor=${deepCursor}`),
      () => bareExact(deepQuery),
      () => bareList(deepQuery),
    ]);
    const filtered = await compare([
      () => get(`/api/v1/tasks?limit=${LIMIT}&session_id=s3`),
      () => bareExact(filteredQuery),
      () => bareList(filteredQuery),
    ]);
    const row = (name: string, [api, exact, alone]: Timing[]) =>
      rows.push([
        String(total),
        name,
        `${api.p50.toFixed(1)} / ${api.p99.toFixed(1)}`,
        `${exact.p50.toFixed(1)} / ${exact.p99.toFixed(1)}`,
        `${alone.p50.toFixed(1)} / ${alone.p99.toFixed(1)}`,
      ]);
    row('first page', first);
    row(`page ${Math.ceil(total / 2 / LIMIT) + 1} by cursor`, deep);
    row(`filtered (session, ${Math.round(100 / SESSIONS)} %)`, filtered);
    firstPageP50.push(first[0].p50);
    deepPageP50.push(deep[0].p50);
    filteredP50.push(filtered[0].p50);
  }

  console.log(
    `\nList, ${LIMIT} a page, one tenant (tasks queued, no worker), ${REQUESTS} requests a side:`,
  );
  console.log(
    '\n| tasks | page | API p50 / p99 ms | bare list, count, describes p50 / p99 ms |' +
      ' bare list alone p50 / p99 ms |',
  );
  console.log(`|${' --- |'.repeat(5)}`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  if (SIZES.length > 1) {
    const growth = (p50s: number[]) => (p50s.at(-1)! / p50s[0]).toFixed(2);
    console.log(
      `\nAPI p50 growth from ${SIZES[0]} to ${SIZES.at(-1)} tasks: first page ` +
        `${growth(firstPageP50)}×, deep page ${growth(deepPageP50)}×, filtered ` +
        `${growth(filteredP50)}×`,
    );
  }
}
