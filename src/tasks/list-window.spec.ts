import { createHash } from 'node:crypto';
import {
  ListPosition,
  RangeReader,
  collectNewest,
  compareListed,
  nextWindowHint,
  positionOf,
  windowPageSize,
} from './list-window';

class Row {
  constructor(
    readonly taskId: string,
    readonly executionTimeNs: bigint,
    /** Close time; undefined while open. */
    public closeNs?: bigint,
  ) {}

  get open(): boolean {
    return this.closeNs === undefined;
  }

  get closeTimeNs(): bigint | undefined {
    return this.closeNs;
  }
}

const MAX = 1n << 62n;
const ms = (n: number): bigint => BigInt(n) * 1_000_000n;

const scramble = (id: string): string => createHash('sha256').update(id).digest('hex');

/**
 * SQL visibility's order: COALESCE(close_time, max) DESC, start_time DESC, run_id. The run ID
 * is random: tasks of one time come in an order unrelated to their task IDs.
 */
function storeOrder(a: Row, b: Row): number {
  const ca = a.closeNs ?? MAX;
  const cb = b.closeNs ?? MAX;
  if (ca !== cb) return ca > cb ? -1 : 1;
  if (a.executionTimeNs !== b.executionTimeNs)
    return a.executionTimeNs > b.executionTimeNs ? -1 : 1;
  return scramble(a.taskId).localeCompare(scramble(b.taskId));
}

const scrambledOrder = (a: Row, b: Row): number =>
  scramble(`x${a.taskId}`).localeCompare(scramble(`x${b.taskId}`));

/**
 * A store that behaves as Temporal's SQL visibility does: filters by a time range, returns rows
 * in its own order, pages with a keyset token after the last row. Counts what it returns.
 */
class FakeVisibility {
  readonly rows: Row[] = [];
  reads = 0;
  returned = 0;
  /**
   * Rows the database visits. SQL visibility sorts a time range before its LIMIT, so a read
   * with a time bound visits every row of its range; with none it walks an index in order and
   * stops at the LIMIT.
   */
  scanned = 0;
  /** Execution times of other tenants' tasks: never listed, but visited by a time range. */
  readonly others: bigint[] = [];

  /**
   * Other orders than SQL visibility's: `closedFirst` turns it around (closed by close time,
   * then open), `scrambled` is unrelated to time or state.
   */
  constructor(private readonly order: 'sql' | 'closedFirst' | 'scrambled' = 'sql') {}

  private compare = (a: Row, b: Row): number => {
    if (this.order === 'scrambled') return scrambledOrder(a, b);
    if (this.order === 'closedFirst' && a.open !== b.open) return a.open ? 1 : -1;
    return storeOrder(a, b);
  };

  add(row: { taskId: string; executionTimeNs: bigint; closeNs?: bigint }): void {
    this.rows.push(new Row(row.taskId, row.executionTimeNs, row.closeNs));
  }

  readonly read: RangeReader<Row> = ({ from, to, closedOnly }, pageSize, token) => {
    this.reads++;
    const after = token ? (JSON.parse(Buffer.from(token).toString()) as string) : undefined;
    const afterRow = after === undefined ? undefined : this.rows.find((r) => r.taskId === after);
    const matching = this.rows
      .filter(
        (r) =>
          (!closedOnly || !r.open) &&
          (from === undefined || r.executionTimeNs >= from) &&
          (to === undefined || r.executionTimeNs <= to),
      )
      .sort(this.compare)
      .filter((r) => !afterRow || this.compare(r, afterRow) > 0);
    // Copies: a row that closes later must not change what an earlier read returned.
    const othersInRange = this.others.filter(
      (t) => (from === undefined || t >= from) && (to === undefined || t <= to),
    ).length;
    this.scanned +=
      from === undefined && to === undefined ? pageSize : matching.length + othersInRange;
    const items = matching
      .slice(0, pageSize)
      .map((r) => new Row(r.taskId, r.executionTimeNs, r.closeNs));
    this.returned += items.length;
    const last = items.at(-1);
    return Promise.resolve({
      items,
      nextPageToken:
        items.length === pageSize && last ? Buffer.from(JSON.stringify(last.taskId)) : undefined,
    });
  };
}

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` tasks from `startMs` on, some closed (at random later times), some sharing a time. */
function fill(store: FakeVisibility, count: number, seed: number, startMs = 1_700_000_000_000) {
  const next = random(seed);
  let at = ms(startMs);
  for (let i = 0; i < count; i++) {
    // Mostly a few ms apart, sometimes the same microsecond, sometimes a long pause.
    const r = next();
    at += r < 0.05 ? 0n : r > 0.98 ? ms(3_600_000) : BigInt(Math.floor(next() * 5_000_000));
    const closed = next() < 0.6;
    store.add({
      taskId: `task_${String(Math.floor(next() * 1e9)).padStart(9, '0')}_${i}`,
      executionTimeNs: at,
      closeNs: closed ? at + BigInt(Math.floor(next() * 1e12)) : undefined,
    });
  }
}

/** Walks the whole list `limit` at a time, as a client with the cursor does. */
async function walk(
  store: FakeVisibility,
  limit: number,
  between?: () => void,
  openFirst?: boolean,
) {
  const seen: Row[] = [];
  const readsPerPage: number[] = [];
  const scannedPerPage: number[] = [];
  let after: ListPosition | undefined;
  let hintNs: bigint | undefined;
  for (let pages = 0; ; pages++) {
    // A walk that stops advancing must fail, not spin.
    if (pages > store.rows.length + 1) throw new Error(`no end after ${pages} pages`);
    const [returned, scanned] = [store.returned, store.scanned];
    const found = await collectNewest(store.read, { after, need: limit + 1, hintNs, openFirst });
    readsPerPage.push(store.returned - returned);
    scannedPerPage.push(store.scanned - scanned);
    const page = found.slice(0, limit);
    seen.push(...page);
    if (found.length <= limit) return { seen, readsPerPage, scannedPerPage };
    hintNs = nextWindowHint(page, found[limit]);
    after = positionOf(page.at(-1)!);
    between?.();
  }
}

const ids = (rows: Row[]): string[] => rows.map((r) => r.taskId);

describe('collectNewest', () => {
  it('returns the newest tasks first, ties by task ID, whatever the store order', async () => {
    const store = new FakeVisibility();
    store.add({ taskId: 'task_b', executionTimeNs: ms(10) });
    store.add({ taskId: 'task_a', executionTimeNs: ms(10), closeNs: ms(11) });
    store.add({ taskId: 'task_old', executionTimeNs: ms(1), closeNs: ms(99) });
    store.add({ taskId: 'task_new', executionTimeNs: ms(20), closeNs: ms(21) });

    const found = await collectNewest(store.read, { need: 10 });

    expect(ids(found)).toEqual(['task_new', 'task_a', 'task_b', 'task_old']);
  });

  it.each([
    [1, 7],
    [20, 11],
    [100, 5],
  ])(
    'walks 3,000 tasks %i at a time: each once, in order',
    async (limit, seed) => {
      const store = new FakeVisibility();
      fill(store, 3000, seed);

      const { seen } = await walk(store, limit);

      expect(ids(seen)).toEqual(ids([...store.rows].sort(compareListed)));
    },
    30_000,
  );

  it('reads about a page from the store for each page, however deep', async () => {
    const store = new FakeVisibility();
    fill(store, 10_000, 3);

    const { readsPerPage } = await walk(store, 20);

    // Each page: a window of about 1.5 pages, sometimes a first look of one store page and a
    // second window. Never anything like the 10,000 tasks.
    const sorted = [...readsPerPage].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThanOrEqual(windowPageSize(21));
    expect(Math.max(...readsPerPage)).toBeLessThan(400);
  }, 60_000);

  it('crosses quiet spells with windows, never a visit of everything below', async () => {
    const store = new FakeVisibility();
    // 20 busy hours of 500 tasks 2 ms apart, 12 quiet hours between them.
    for (let run = 0; run < 20; run++) {
      for (let i = 0; i < 500; i++) {
        const at = ms(run * 12 * 3_600_000 + i * 2);
        store.add({ taskId: `task_${run}_${i}`, executionTimeNs: at, closeNs: at + ms(10) });
      }
    }

    const { seen, scannedPerPage } = await walk(store, 20);

    expect(ids(seen)).toEqual(ids([...store.rows].sort(compareListed)));
    // Only the page whose next task lies across a quiet spell reads more than about a page,
    // and that one windows widened eightfold at most: never everything below (9,500 rows for
    // the first spell).
    const heavy = scannedPerPage.flatMap((n, page) => (n > 60 ? [page] : []));
    expect(heavy).toEqual(Array.from({ length: 19 }, (_, i) => 25 * i + 24));
    expect(Math.max(...scannedPerPage)).toBeLessThan(3_500);
  });

  it("reads a tenant whose tasks closed long ago without visiting everyone's since", async () => {
    const store = new FakeVisibility();
    for (let i = 0; i < 100; i++) {
      store.add({ taskId: `task_${i}`, executionTimeNs: ms(i), closeNs: ms(1_000 + i) });
    }
    for (let i = 0; i < 10_000; i++) store.others.push(ms(10_000 + i));

    const found = await collectNewest(store.read, { need: 21 });

    expect(ids(found)).toEqual(Array.from({ length: 21 }, (_, i) => `task_${99 - i}`));
    expect(store.scanned).toBeLessThan(200);
  });

  it('misses nothing and repeats nothing while newer tasks arrive', async () => {
    const store = new FakeVisibility();
    fill(store, 1000, 5);
    const existing = ids([...store.rows].sort(compareListed));
    let later = 0;
    const newest = store.rows.reduce((m, r) => (r.executionTimeNs > m ? r.executionTimeNs : m), 0n);

    const { seen } = await walk(store, 25, () => {
      later++;
      store.add({ taskId: `task_late_${later}`, executionTimeNs: newest + ms(later) });
    });

    expect(ids(seen)).toEqual(existing);
  });

  it('sees tasks close between pages without losing or repeating them', async () => {
    const store = new FakeVisibility();
    fill(store, 1000, 9);
    const expected = ids([...store.rows].sort(compareListed));
    const open = store.rows.filter((r) => r.closeNs === undefined);
    let closing = 0;

    const { seen } = await walk(store, 30, () => {
      // Close a few open tasks now: they move to the front of the store's closed rows.
      for (const row of open.slice(closing, closing + 5)) row.closeNs = MAX - 1n - BigInt(closing);
      closing += 5;
    });

    expect(ids(seen)).toEqual(expected);
  });

  it('narrows an over-full window instead of reading it all', async () => {
    const store = new FakeVisibility();
    fill(store, 5000, 13);
    const sorted = [...store.rows].sort(compareListed);
    const after = positionOf(sorted[100]);
    const before = store.returned;

    // A hint far too wide: the window below `after` holds thousands of tasks.
    const found = await collectNewest(store.read, { after, need: 21, hintNs: ms(1e12) });

    expect(ids(found)).toEqual(ids(sorted.slice(101, 122)));
    expect(store.returned - before).toBeLessThan(300);
  });

  it('finds the rest when the hint is far too narrow', async () => {
    const store = new FakeVisibility();
    fill(store, 2000, 17);
    const sorted = [...store.rows].sort(compareListed);
    const after = positionOf(sorted[500]);

    const found = await collectNewest(store.read, { after, need: 50, hintNs: 1n });

    expect(ids(found)).toEqual(ids(sorted.slice(501, 551)));
  });

  it('returns fewer at the end of the list', async () => {
    const store = new FakeVisibility();
    fill(store, 300, 19);
    const sorted = [...store.rows].sort(compareListed);

    const found = await collectNewest(store.read, {
      after: positionOf(sorted[289]),
      need: 21,
      hintNs: ms(10),
    });

    expect(ids(found)).toEqual(ids(sorted.slice(290)));
  });

  it('keeps every task of one microsecond apart, across pages', async () => {
    const store = new FakeVisibility();
    for (let i = 0; i < 150; i++) {
      store.add({ taskId: `task_${String(i).padStart(3, '0')}`, executionTimeNs: ms(5) });
    }

    const { seen } = await walk(store, 20);

    expect(ids(seen)).toEqual(store.rows.map((r) => r.taskId).sort());
  });
});

describe('collectNewest, first look', () => {
  it('reads one page more than asked and an empty closed window when all tasks are open', async () => {
    const store = new FakeVisibility();
    for (let i = 0; i < 5000; i++) {
      store.add({ taskId: `task_${i}`, executionTimeNs: ms(1000 + i) });
    }

    const found = await collectNewest(store.read, { need: 21 });

    expect(ids(found)).toEqual(Array.from({ length: 21 }, (_, i) => `task_${4999 - i}`));
    expect([store.reads, store.returned]).toEqual([2, 22]);
  });

  it('reads the window whole when the first page ends among tasks of one time', async () => {
    const store = new FakeVisibility();
    const tie = (i: number): string => `task_tie_${String(i).padStart(3, '0')}`;
    for (let i = 0; i < 100; i++) {
      if (i < 10) store.add({ taskId: `task_new_${i}`, executionTimeNs: ms(50) });
      // The store returns tasks of one time in run-ID order, not task-ID order.
      store.add({ taskId: tie(i), executionTimeNs: ms(20) });
      store.add({ taskId: `task_old_${i}`, executionTimeNs: ms(10) });
    }

    const found = await collectNewest(store.read, { need: 30 });

    expect(ids(found)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `task_new_${i}`),
      ...Array.from({ length: 20 }, (_, i) => tie(i)),
    ]);
  });

  it.each([
    ['closedFirst', 7],
    ['scrambled', 23],
  ] as const)(
    'walks a store with another order (%s) with openFirst: false',
    async (order, seed) => {
      const store = new FakeVisibility(order);
      fill(store, 2000, seed);

      const { seen } = await walk(store, 20, undefined, false);

      expect(ids(seen)).toEqual(ids([...store.rows].sort(compareListed)));
    },
    30_000,
  );
});

describe('nextWindowHint', () => {
  const at = (n: number, t: number) => ({ taskId: `t${n}`, executionTimeNs: ms(t), open: true });

  it('reaches half again a page below the next task, at the rate of the page', () => {
    // Four tasks 10 ms apart; the next task 50 ms below the last.
    const page = [at(1, 200), at(2, 190), at(3, 180), at(4, 170)];

    expect(nextWindowHint(page, at(5, 120))).toBe(ms(50) + ms(40) + ms(20) + 1000n);
  });

  it('steps a quiet spell over when it lies between the page and the next task', () => {
    const page = [at(1, 10_000_000 + 4), at(2, 10_000_000 + 2), at(3, 10_000_000)];

    expect(nextWindowHint(page, at(4, 0))).toBeGreaterThan(ms(10_000_000));
  });
});
