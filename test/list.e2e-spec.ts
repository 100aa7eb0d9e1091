/**
 * The task list at depth: cursor walks while tasks are submitted, filters with the cursor, bad
 * cursors, offsets; and what the list shows of changes visibility has not caught up with yet
 * (the README's "What the list shows right after a write").
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestApi } from './support/api';
import { TemporalObserver } from './support/temporal';
import { waitFor } from './support/wait';

/** What the README promises about the list trailing writes, held here as a timeout. */
const LIST_TRAILS_BY_AT_MOST_MS = 5_000;

interface ListedTask {
  task_id: string;
  query: string;
  status: string;
  mode: string;
  created_at: string;
  completed_at?: string;
}

interface ListPage {
  tasks: ListedTask[];
  total_count: number;
  next_cursor: string | null;
}

const run = randomUUID().slice(0, 8);
const TENANTS = {
  walk: `list-walk-${run}`,
  filters: `list-filters-${run}`,
  other: `list-other-${run}`,
  live: `list-live-${run}`,
  changes: `list-changes-${run}`,
};
const KEY = {
  walk: `sk_e2e_list_walk_${run}`,
  filters: `sk_e2e_list_filters_${run}`,
  other: `sk_e2e_list_other_${run}`,
  live: `sk_e2e_list_live_${run}`,
  changes: `sk_e2e_list_changes_${run}`,
};

function writeKeys(): string {
  const entries = (Object.keys(TENANTS) as (keyof typeof TENANTS)[]).map((name) => ({
    name: `list-${name}`,
    key_sha256: createHash('sha256').update(KEY[name]).digest('hex'),
    tenant_id: TENANTS[name],
    user_id: `${name}-user`,
    scopes: ['tasks:read', 'tasks:write'],
  }));
  const file = join(mkdtempSync(join(tmpdir(), 'task-api-list-keys-')), 'keys.json');
  writeFileSync(file, JSON.stringify(entries));
  return file;
}

describe('GET /api/v1/tasks at depth', () => {
  /** On a task queue no worker polls: every task stays queued unless the test closes it. */
  let idle: TestApi;
  let observer: TemporalObserver;
  const keysFile = writeKeys();

  const list = async (key: string, query: string): Promise<ListPage> => {
    const res = await idle.request<ListPage>('GET', `/api/v1/tasks?${query}`, { key });
    if (res.status !== 200) throw new Error(`list ${query}: ${res.status} ${res.text}`);
    return res.body;
  };

  /**
   * Every page of a list, following next_cursor; `between` runs after each page but the last,
   * with the pages so far.
   */
  const walkPages = async (
    key: string,
    query: string,
    between: (pages: ListPage[]) => Promise<void> = async () => {},
  ): Promise<ListPage[]> => {
    const pages: ListPage[] = [];
    let cursor: string | null = null;
    while (pages.length < 1000) {
      const page: ListPage = await list(key, `${query}${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(page);
      cursor = page.next_cursor;
      if (!cursor) return pages;
      await between(pages);
    }
    throw new Error('the walk did not end');
  };

  /** Every task of a list, page after page. */
  const walk = async (
    key: string,
    query: string,
    between?: (pages: ListPage[]) => Promise<void>,
  ): Promise<ListedTask[]> => (await walkPages(key, query, between)).flatMap((p) => p.tasks);

  const submit = async (key: string, session: string, n: number): Promise<string[]> => {
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < n) {
          const i = next++;
          const res = await idle.request('POST', '/api/v1/tasks', {
            key,
            json: { query: `list ${i}`, session_id: session, context: { steps: 1 } },
          });
          if (res.status !== 200) throw new Error(`submit: ${res.status} ${res.text}`);
          ids.push(res.body.task_id as string);
        }
      }),
    );
    return ids;
  };

  const visible = (key: string, query: string, count: number): Promise<ListPage> =>
    waitFor(
      `the list to count ${count} for ${query}`,
      async () => {
        const page = await list(key, query);
        return page.total_count === count ? page : undefined;
      },
      LIST_TRAILS_BY_AT_MOST_MS,
    );

  const ids = (tasks: ListedTask[]): string[] => tasks.map((t) => t.task_id);

  /** Closes a task no worker runs: terminated, it is a failed one. */
  const terminate = (id: string) =>
    observer.client.workflow.getHandle(id).terminate('closed by the list test');

  beforeAll(async () => {
    idle = await TestApi.start({ taskQueue: `list-idle-${run}`, apiKeysFile: keysFile });
    observer = await TemporalObserver.connect();
  });
  afterAll(async () => {
    await idle?.close();
    await observer?.close();
  });

  describe('walking with cursor', () => {
    let existing: string[];
    /** The 250 tasks, newest first, as a walk before any concurrent submit saw them. */
    let baseline: ListedTask[];

    beforeAll(async () => {
      existing = [
        ...(await submit(KEY.walk, 'even', 125)),
        ...(await submit(KEY.walk, 'odd', 125)),
      ];
      await visible(KEY.walk, 'limit=1', 250);
      baseline = await walk(KEY.walk, 'limit=100');
    });

    it('lists every task once, newest first by created_at', () => {
      expect(ids(baseline).sort()).toEqual([...existing].sort());
      const created = baseline.map((t) => t.created_at);
      expect(created).toEqual([...created].sort().reverse());
      expect(baseline[0]).toEqual({
        task_id: expect.any(String),
        query: expect.stringMatching(/^list \d+$/),
        status: 'TASK_STATUS_QUEUED',
        mode: 'standard',
        created_at: expect.any(String),
      });
    });

    it('returns each of 250 tasks exactly once, in order, while 50 more are submitted between its pages', async () => {
      const late: string[] = [];
      const pages = await walkPages(KEY.walk, 'limit=20', async () => {
        // Between two pages: five submits, each answered, and visible to the next page's reads
        // (the count says so) before it is asked for.
        late.push(...(await submit(KEY.walk, 'late', Math.min(5, 50 - late.length))));
        await visible(KEY.walk, 'limit=1', 250 + late.length);
      });

      // 13 pages; every page after the first was read with more new tasks in the store, up
      // to all 50 from the 11th on.
      expect(pages.map((p) => p.total_count)).toEqual(
        Array.from({ length: 13 }, (_, i) => 250 + Math.min(5 * i, 50)),
      );
      // Newer than the first page, they sort before the cursor: the walk is the one before.
      const walked = pages.flatMap((p) => p.tasks);
      expect(walked).toEqual(baseline);
      expect(new Set(ids(walked)).size).toBe(250);
      // And a walk begun now lists them first.
      const fresh = await walk(KEY.walk, 'limit=100');
      expect(ids(fresh.slice(0, 50)).sort()).toEqual([...late].sort());
      expect(ids(fresh.slice(50))).toEqual(ids(baseline));
    });

    /** The tasks of session `even`, newest first. */
    const evenTasks = () => baseline.filter((t) => existing.slice(0, 125).includes(t.task_id));

    it('pages with limit and offset as before, and offers a cursor', async () => {
      const page = await list(KEY.walk, 'limit=11&offset=37&session_id=even');
      const even = evenTasks();

      expect(page).toEqual({
        tasks: even.slice(37, 48),
        total_count: 125,
        next_cursor: expect.any(String),
      });
      const next = await list(KEY.walk, `limit=11&session_id=even&cursor=${page.next_cursor}`);
      expect(next.tasks).toEqual(even.slice(48, 59));
    });

    it('counts offset from the cursor', async () => {
      const even = evenTasks();
      const after = (offset: number, cursor: string | null) =>
        list(KEY.walk, `limit=11&offset=${offset}&session_id=even&cursor=${cursor}`);
      const first = await list(KEY.walk, 'limit=11&session_id=even');
      expect(first).toEqual({
        tasks: even.slice(0, 11),
        total_count: 125,
        next_cursor: expect.any(String),
      });

      const skipped = await after(20, first.next_cursor);
      expect(skipped).toEqual({
        tasks: even.slice(31, 42),
        total_count: 125,
        next_cursor: expect.any(String),
      });
      // Its cursor goes on after its own last task.
      expect(await after(0, skipped.next_cursor)).toEqual({
        tasks: even.slice(42, 53),
        total_count: 125,
        next_cursor: expect.any(String),
      });
      // 114 tasks follow the first page: the last of them, then nothing.
      expect(await after(113, first.next_cursor)).toEqual({
        tasks: even.slice(124),
        total_count: 125,
        next_cursor: null,
      });
      expect(await after(114, first.next_cursor)).toEqual({
        tasks: [],
        total_count: 125,
        next_cursor: null,
      });
    });

    it('answers an empty page with the right total past the end', async () => {
      expect(await list(KEY.walk, 'offset=125&session_id=odd')).toEqual({
        tasks: [],
        total_count: 125,
        next_cursor: null,
      });
      expect(await list(KEY.walk, 'offset=100000&limit=5&session_id=even')).toEqual({
        tasks: [],
        total_count: 125,
        next_cursor: null,
      });
    });

    it('answers 400 naming the cursor for one of another tenant, malformed or edited', async () => {
      const { next_cursor: cursor } = await list(KEY.walk, 'limit=5');
      const bad = async (key: string, query: string) => {
        const res = await idle.request('GET', `/api/v1/tasks?${query}`, { key });
        return [res.status, res.body];
      };
      const edited = cursor!.replace(/.(?=\.)/, (c) => (c === 'A' ? 'B' : 'A'));

      expect(await bad(KEY.other, `cursor=${cursor}`)).toEqual([
        400,
        { error: 'Invalid cursor parameter' },
      ]);
      for (const query of ['cursor=not-a-cursor', `cursor=${edited}`, 'cursor=', 'cursor=a.b']) {
        expect(await bad(KEY.walk, query)).toEqual([400, { error: 'Invalid cursor parameter' }]);
      }
      expect(await bad(KEY.walk, `cursor=${'A'.repeat(2000)}.AAAA`)).toEqual([
        400,
        { error: 'Invalid cursor parameter' },
      ]);
      expect(await bad(KEY.walk, `session_id=odd&cursor=${cursor}`)).toEqual([
        400,
        {
          error:
            'Invalid cursor parameter: use the status and session_id of the page that returned it',
        },
      ]);
    });
  });

  describe('filters with cursor, and open tasks no worker has run', () => {
    let one: string[];
    let two: string[];
    let all: ListedTask[];
    let terminated: Set<string>;
    let paused: Set<string>;
    /** completed_at of each terminated task, as GET reports it. */
    const closedAt = new Map<string, string>();

    beforeAll(async () => {
      one = await submit(KEY.filters, 'one', 30);
      two = await submit(KEY.filters, 'two', 30);
      await visible(KEY.filters, 'limit=1', 60);
      all = await walk(KEY.filters, 'limit=100');

      // Closed without a worker: terminated tasks are failed ones.
      terminated = new Set([...one.slice(0, 10), ...two.slice(0, 10)]);
      for (const id of terminated) {
        await terminate(id);
        const get = await idle.request('GET', `/api/v1/tasks/${id}`, { key: KEY.filters });
        closedAt.set(id, get.body.completed_at as string);
      }
      // Paused while no worker runs them: only the history knows.
      paused = new Set([...one.slice(10, 13), ...two.slice(10, 12)]);
      for (const id of paused) {
        const res = await idle.request('POST', `/api/v1/tasks/${id}/pause`, { key: KEY.filters });
        expect(res.status).toBe(202);
      }
      await visible(KEY.filters, 'limit=1&status=failed', 20);
    });

    const statusOf = (id: string): string =>
      terminated.has(id)
        ? 'TASK_STATUS_FAILED'
        : paused.has(id)
          ? 'TASK_STATUS_PAUSED'
          : 'TASK_STATUS_QUEUED';

    /** A task of `all` as the list shows it now. */
    const now = (task: ListedTask): ListedTask => ({
      ...task,
      status: statusOf(task.task_id),
      ...(closedAt.has(task.task_id) && { completed_at: closedAt.get(task.task_id) }),
    });

    it('answers a first page of open and closed tasks mixed in time, each as GET reports it', async () => {
      // 40 open tasks, 20 closed, session two's after session one's: the page holds two's 30,
      // its closed ones among its open ones, then one's 15 newest, all open. The store lists
      // open tasks first, so the closed ones of this page are read apart from them.
      const page = await list(KEY.filters, 'limit=45');

      expect(page).toEqual({
        tasks: all.slice(0, 45).map(now),
        total_count: 60,
        next_cursor: expect.any(String),
      });
      const closed = page.tasks.map((t) => t.status === 'TASK_STATUS_FAILED');
      expect([closed.indexOf(true) > 0, closed.lastIndexOf(false) > closed.indexOf(true)]).toEqual([
        true,
        true,
      ]);
      expect(await list(KEY.filters, `limit=45&cursor=${page.next_cursor}`)).toEqual({
        tasks: all.slice(45).map(now),
        total_count: 60,
        next_cursor: null,
      });
    });

    it('walks a status filter by cursor: exactly the matching tasks, newest first', async () => {
      const failed = await walk(KEY.filters, 'limit=7&status=failed');

      expect(ids(failed)).toEqual(ids(all).filter((id) => terminated.has(id)));
      expect(failed.map((t) => [t.status, typeof t.completed_at])).toEqual(
        failed.map(() => ['TASK_STATUS_FAILED', 'string']),
      );
    });

    it('walks status and session together by cursor', async () => {
      const queuedOne = await walk(KEY.filters, 'limit=4&status=QUEUED&session_id=one');

      expect(ids(queuedOne)).toEqual(
        ids(all).filter((id) => one.includes(id) && !terminated.has(id)),
      );
    });

    it('walks a session filter by cursor, each task with the status GET reports', async () => {
      const listed = await walk(KEY.filters, 'limit=9&session_id=two');

      expect(ids(listed)).toEqual(ids(all).filter((id) => two.includes(id)));
      expect(listed.map((t) => [t.task_id, t.status])).toEqual(
        listed.map((t) => [t.task_id, statusOf(t.task_id)]),
      );
    });

    it('lists a task paused with no worker running as paused, as GET does', async () => {
      const id = [...paused][0];
      const get = await idle.request('GET', `/api/v1/tasks/${id}`, { key: KEY.filters });
      const listed = (await walk(KEY.filters, 'limit=50')).find((t) => t.task_id === id);

      expect(get.body.status).toBe('TASK_STATUS_PAUSED');
      expect(listed).toEqual({
        task_id: id,
        query: get.body.query,
        status: 'TASK_STATUS_PAUSED',
        mode: 'standard',
        created_at: get.body.created_at,
      });
      // The filter matches what the workflow recorded, and no worker has recorded the pause.
      expect((await list(KEY.filters, 'status=paused')).total_count).toBe(0);
      expect(ids(await walk(KEY.filters, 'limit=100&status=queued'))).toContain(id);
    });
  });

  describe('a status filter walked while statuses change', () => {
    /** The tenant's 24 tasks, newest first, all queued (no worker runs them). */
    let all: ListedTask[];
    const failed = (n: number) => visible(KEY.changes, 'limit=1&status=failed', n);

    beforeAll(async () => {
      await submit(KEY.changes, 'changes', 24);
      await visible(KEY.changes, 'limit=1', 24);
      all = await walk(KEY.changes, 'limit=100');
    });

    it('lists a task at most once: if it still matches when the walk reaches it', async () => {
      // Queued by cursor, while tasks close: one already listed, two not reached yet.
      const queued = await walk(KEY.changes, 'limit=5&status=queued', async (pages) => {
        if (pages.length === 1) {
          await terminate(all[2].task_id);
          await terminate(all[15].task_id);
          await failed(2);
        } else if (pages.length === 2) {
          await terminate(all[20].task_id);
          await failed(3);
        }
      });
      const gone = [all[15].task_id, all[20].task_id];
      expect(queued).toEqual(all.filter((t) => !gone.includes(t.task_id)));

      // Failed by cursor, while tasks close: one newer than the cursor, one not reached yet.
      const get = async (id: string) =>
        (await idle.request('GET', `/api/v1/tasks/${id}`, { key: KEY.changes })).body;
      const listedFailed = await walk(KEY.changes, 'limit=1&status=failed', async (pages) => {
        if (pages.length === 1) {
          await terminate(all[0].task_id);
          await terminate(all[23].task_id);
          await failed(5);
        }
      });
      const closed = [all[2], all[15], all[20], all[23]];
      expect(listedFailed).toEqual(
        await Promise.all(
          closed.map(async (task) => ({
            ...task,
            status: 'TASK_STATUS_FAILED',
            completed_at: (await get(task.task_id)).completed_at,
          })),
        ),
      );
    });
  });

  describe('what the list shows of changes it has not caught up with', () => {
    /** On the run's task queue: its worker runs the tasks. */
    let live: TestApi;

    beforeAll(async () => {
      live = await TestApi.start({ apiKeysFile: keysFile });
    });
    afterAll(async () => {
      await live?.close();
    });

    const listLive = async (query: string): Promise<ListPage> =>
      (await live.request<ListPage>('GET', `/api/v1/tasks?${query}`, { key: KEY.live })).body;
    const get = async (id: string) =>
      (await live.request('GET', `/api/v1/tasks/${id}`, { key: KEY.live })).body;
    const waitForStatus = (id: string, status: string) =>
      waitFor(`${id} to be ${status}`, async () => (await get(id)).status === status);

    it('lists a new task and matches a pause within the documented bound, each as GET reports it', async () => {
      const id = await live.submit({ steps: 2, step_duration_ms: 1500 }, KEY.live);
      await waitFor(
        'the new task to be listed',
        async () => ids((await listLive('limit=5')).tasks).includes(id),
        LIST_TRAILS_BY_AT_MOST_MS,
      );
      await waitForStatus(id, 'TASK_STATUS_RUNNING');
      await waitFor(
        'the list to match the task as running',
        async () => ids((await listLive('status=running')).tasks).includes(id),
        LIST_TRAILS_BY_AT_MOST_MS,
      );

      const pause = await live.request('POST', `/api/v1/tasks/${id}/pause`, { key: KEY.live });
      expect(pause.status).toBe(202);
      // At once: the listed task's status is read as GET reads it, whatever visibility says.
      const row = (await listLive('limit=5')).tasks.find((t) => t.task_id === id);
      expect(row?.status).toBe('TASK_STATUS_PAUSED');
      await waitFor(
        'the status filter to match the pause',
        async () => ids((await listLive('status=paused')).tasks).includes(id),
        LIST_TRAILS_BY_AT_MOST_MS,
      );

      await live.request('POST', `/api/v1/tasks/${id}/resume`, { key: KEY.live });
      await waitForStatus(id, 'TASK_STATUS_COMPLETED');
      const done = await get(id);
      const completed = await waitFor(
        'the status filter to match the completion',
        async () => (await listLive('status=completed')).tasks.find((t) => t.task_id === id),
        LIST_TRAILS_BY_AT_MOST_MS,
      );
      expect(completed).toEqual({
        task_id: id,
        query: done.query,
        status: 'TASK_STATUS_COMPLETED',
        mode: 'standard',
        created_at: done.created_at,
        completed_at: done.completed_at,
      });
    });
  });
});
