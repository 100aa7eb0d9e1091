/**
 * The list table of `npm run bench`: GET /api/v1/tasks against the Temporal calls of
 * the same page made bare, at 100, 1,000 and 10,000 tasks in one tenant: the first page, ten
 * pages from half way down by cursor (in turn), and a page filtered by session.
 *
 * Each size has a tenant of its own (`bench-list-<size>`), all filled first, and then every
 * measurement runs in rounds that go through all sizes, pages and sides in turn: on these
 * noisy shared machines a burst of load then falls on all of them alike instead of on
 * whichever size was being measured at the time.
 *
 * Two bare sides, each the Temporal calls of one page made directly with the same filter (for
 * the deep page: within the window of execution times the cursor's page lies in):
 * - "list alone": one ListWorkflowExecutions of the page's 20 rows, as a client of Temporal would
 *   read "some 20 tasks": unsorted, uncounted, statuses as visibility last recorded them;
 * - "list, count, describes": that, CountWorkflowExecutions beside it, and a describe of each
 *   open task listed: the calls an exact page needs (the API reads open tasks as GET does, and
 *   its GET is one describe for a task queued and never signalled, as these are).
 *
 * Measured requests are spaced so as to stay under Temporal's visibility rate limit, and the
 * calls Temporal refused for load during the measurements are reported (none, for figures
 * worth comparing).
 *
 * The tasks are started bare on a task queue no worker polls, so they stay queued and cost
 * Temporal nothing after their start. Against an external Temporal (TEMPORAL_ADDRESS) the
 * tenants' tasks of an earlier run are reused.
 */
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeCursor } from '../src/tasks/list-cursor';
import { formatNanos } from '../src/tasks/task-list.service';
import { TASK_WORKFLOW_TYPE, TaskInput, taskStartRecord } from '../src/workflows/contract';
import { waitFor } from '../test/support/wait';
import { BENCH_USER, benchListTenant, percentile, temporalRefusals } from './stack';

export const LIST_SIZES = (process.env.BENCH_LIST_SIZES ?? '100,1000,10000').split(',').map(Number);
/** Requests per size, page and side, in ROUNDS rounds. */
const REQUESTS = Number(process.env.BENCH_LIST_REQUESTS ?? 60);
const ROUNDS = 6;
const LIMIT = 20;
const SESSIONS = 4;
/** Deep pages measured in turn: one page alone may happen to need more reads than most. */
const DEEP_PAGES = 10;
/** No worker polls this queue: the tasks stay queued. */
const IDLE_QUEUE = 'bench-list-idle';
const baseQuery = (size: number): string =>
  `WorkflowType = '${TASK_WORKFLOW_TYPE}' AND TenantId = '${benchListTenant(size)}'`;

export interface ListBenchDeps {
  client: Client;
  namespace: string;
  /** GET `path` from the API with the key of the tenant of `size` tasks; the body. */
  get: (size: number, path: string) => Promise<string>;
  /** Temporal's Prometheus endpoint, to report calls it refused for load; absent: not known. */
  metricsUrl?: string;
}

interface ListPage {
  tasks: { task_id: string; created_at: string }[];
  total_count: number;
  next_cursor: string | null;
}

/** One page measured three ways: through the API, its calls bare, the list call alone. */
interface Measured {
  size: number;
  page: string;
  sides: (() => Promise<unknown>)[];
  latencies: number[][];
}

/**
 * Measured requests start at least this far apart. A page costs Temporal 2 or 3 visibility
 * calls (a bare one 1 or 2), which Temporal limits per namespace (100 a second on the dev server
 * and start:cluster): back to back, a fast page would exceed that and measure the client's
 * retry after a refusal instead of the page. At most 20 requests a second stay under it.
 */
const MIN_SPACING_MS = 50;
let lastStart = 0;

async function timed(n: number, op: () => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const early = lastStart + MIN_SPACING_MS - performance.now();
    if (early > 0) await sleep(early);
    const t0 = performance.now();
    lastStart = t0;
    await op();
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

export async function benchList({
  client,
  namespace,
  get,
  metricsUrl,
}: ListBenchDeps): Promise<void> {
  const service = client.workflowService;
  const count = async (query: string): Promise<number> =>
    Number((await service.countWorkflowExecutions({ namespace, query })).count ?? 0);
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

  const startTasks = async (size: number, n: number): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < n) {
          const i = next++;
          const input: TaskInput = {
            query: `list bench ${i}`,
            session_id: `s${i % SESSIONS}`,
            tenant_id: benchListTenant(size),
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

  /**
   * The cursors of up to DEEP_PAGES pages from half way down (fewer when the list ends first),
   * reached as a client reaches them; the walk there is checked.
   */
  const deepCursors = async (size: number, total: number): Promise<string[]> => {
    const seen = new Set<string>();
    const cursors: string[] = [];
    let cursor: string | null = null;
    let previous = '';
    while (cursors.length < DEEP_PAGES) {
      if (seen.size >= total / 2) cursors.push(cursor!);
      if (seen.size + LIMIT >= total) break;
      const path = `/api/v1/tasks?limit=${LIMIT}${cursor ? `&cursor=${cursor}` : ''}`;
      const page = JSON.parse(await get(size, path)) as ListPage;
      for (const task of page.tasks) {
        if (seen.has(task.task_id)) throw new Error(`${task.task_id} listed twice`);
        if (previous && task.created_at > previous) throw new Error('list out of order');
        seen.add(task.task_id);
        previous = task.created_at;
      }
      cursor = page.next_cursor;
      if (!cursor) throw new Error(`the list ended after ${seen.size} of ${total} tasks`);
    }
    return cursors;
  };

  const measured: Measured[] = [];
  const totals = new Map<number, number>();
  for (const size of LIST_SIZES) {
    const base = baseQuery(size);
    const existing = await count(base);
    if (existing < size) {
      const t0 = performance.now();
      await startTasks(size, size - existing);
      const seconds = ((performance.now() - t0) / 1000).toFixed(0);
      console.error(`list bench: started ${size - existing} tasks in ${seconds} s`);
    }
    const total = await waitFor(
      'visibility to show every task',
      async () => {
        const n = await count(base);
        return n >= size ? n : undefined;
      },
      120_000,
    );
    totals.set(size, total);

    const deep = (await deepCursors(size, total)).map((cursor) => {
      const { after, hintNs = 0n } = decodeCursor(cursor);
      return {
        path: `/api/v1/tasks?limit=${LIMIT}&cursor=${cursor}`,
        query:
          `${base} AND ExecutionTime >= '${formatNanos(after.at - hintNs)}' AND ` +
          `ExecutionTime <= '${formatNanos(after.at)}'`,
      };
    });
    const filteredQuery = `${base} AND SessionId = 's3'`;
    /** Measures `pages` in turn, each request the next one. */
    const page = (name: string, pages: { path: string; query: string }[]): Measured => {
      const next = (() => {
        const turns = [0, 0, 0];
        return (side: number) => pages[turns[side]++ % pages.length];
      })();
      return {
        size,
        page: name,
        sides: [
          () => get(size, next(0).path),
          () => bareExact(next(1).query),
          () => bareList(next(2).query),
        ],
        latencies: [[], [], []],
      };
    };
    const middle = Math.ceil(total / 2 / LIMIT) + 1;
    measured.push(
      page('first page', [{ path: `/api/v1/tasks?limit=${LIMIT}`, query: base }]),
      page(`pages ${middle}–${middle + deep.length - 1} by cursor`, deep),
      page(`filtered (session, ${Math.round(100 / SESSIONS)} %)`, [
        { path: `/api/v1/tasks?limit=${LIMIT}&session_id=s3`, query: filteredQuery },
      ]),
    );
  }

  // Warm up every path once, then the rounds; the sides take turns at going first.
  for (const m of measured) for (const side of m.sides) await timed(3, side);
  const refusedBefore = metricsUrl ? await temporalRefusals(metricsUrl) : undefined;
  const perRound = Math.ceil(REQUESTS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const m of measured) {
      for (let k = 0; k < m.sides.length; k++) {
        const i = (k + round) % m.sides.length;
        m.latencies[i].push(...(await timed(perRound, m.sides[i])));
      }
    }
  }

  const refusedAfter = metricsUrl ? await temporalRefusals(metricsUrl) : undefined;

  const p = (xs: number[], q: number) => percentile(xs, q).toFixed(1);
  console.log(
    `\nList, ${LIMIT} a page, one tenant per size (tasks queued, no worker), ` +
      `${perRound * ROUNDS} requests a side:`,
  );
  console.log(
    '\n| tasks | page | API p50 / p99 ms | bare list, count, describes p50 / p99 ms |' +
      ' bare list alone p50 / p99 ms |',
  );
  console.log(`|${' --- |'.repeat(5)}`);
  for (const m of measured) {
    const cells = m.latencies.map((xs) => `${p(xs, 50)} / ${p(xs, 99)}`);
    console.log(`| ${totals.get(m.size)} | ${m.page} | ${cells.join(' | ')} |`);
  }
  if (refusedBefore && refusedAfter) {
    const refused = [...refusedAfter]
      .map(([op, n]) => [op, n - (refusedBefore.get(op) ?? 0)] as const)
      .filter(([, n]) => n > 0);
    console.log(
      refused.length === 0
        ? '\nTemporal refused no call for load during the measurements.'
        : `\nTemporal refused calls for load (RESOURCE_EXHAUSTED, retried after a backoff) ` +
            `during the measurements: ${refused.map(([op, n]) => `${op} ${n}`).join(', ')}`,
    );
  }
  if (LIST_SIZES.length > 1) {
    const [smallest, largest] = [LIST_SIZES[0], LIST_SIZES.at(-1)!];
    const growth = (index: number) => {
      const p50 = (size: number) =>
        percentile(measured.filter((m) => m.size === size)[index].latencies[0], 50);
      return (p50(largest) / p50(smallest)).toFixed(2);
    };
    console.log(
      `\nAPI p50 growth from ${smallest} to ${largest} tasks: first page ${growth(0)}×, ` +
        `deep page ${growth(1)}×, filtered ${growth(2)}×`,
    );
  }
}
