/**
 * Newest-first pages from a store that cannot sort (Temporal's SQL visibility has no ORDER BY):
 * read a window of execution times that is sure to hold the tasks a page needs, and sort only
 * that window here.
 *
 * Any `n` matches of a time range tell a lower bound: the range from the n-th newest of them up
 * holds at least `n` matches, so it holds the `n` newest ones. A page therefore costs the read
 * of one narrow window, whatever the number of tasks below it. Where that window lies comes
 * from the previous page (the cursor carries its width), or from a first look at the store.
 *
 * The first look uses one property of the store's own order, which SQL visibility (SQLite,
 * MySQL, PostgreSQL) and Elasticsearch visibility share: open executions come first, newest
 * start first (`ORDER BY COALESCE(close_time, '9999-12-31') DESC, start_time DESC, run_id`).
 * So a first page of n open tasks holds every open task of the range down to the n-th, and
 * only closed ones remain to be read from the window. This cannot be checked from a page (a
 * page of closed tasks looks the same in any order): a store with another order needs
 * `openFirst: false`, which reads every window whole.
 *
 * Open tasks are ordered by start time there, windows and pages by execution time: the same for
 * a task, which starts with no delay.
 */

/** Where a task sits in the list: newest first by time, ties by task ID ascending. */
export interface ListPosition {
  /** Execution time, nanoseconds since the epoch. */
  at: bigint;
  taskId: string;
}

export interface Listable {
  taskId: string;
  executionTimeNs: bigint;
  /** Still running, as the store recorded it. */
  open: boolean;
  /** When it closed, ns; absent while open. Never before its execution time. */
  closeTimeNs?: bigint;
}

/** Execution times from `from` to `to`, both included (either may be open), maybe closed only. */
export interface RangeQuery {
  from?: bigint;
  to?: bigint;
  closedOnly?: boolean;
}

export interface RangePage<T> {
  items: T[];
  nextPageToken?: Uint8Array;
}

/** A store query restricted to a time range, read a page at a time. */
export type RangeReader<T> = (
  range: RangeQuery,
  pageSize: number,
  nextPageToken?: Uint8Array,
) => Promise<RangePage<T>>;

/** Temporal's default (and usual) largest visibility page. */
export const MAX_STORE_PAGE = 1000;
/** Narrowing attempts before a window is read to the end as it is. */
const MAX_NARROWING = 4;

/**
 * Store page sizes when `missing` tasks are still wanted. A first look needs one more than
 * `missing` (to see whether the page ends between tasks of the same time); a window is
 * expected to hold about half again as many (see nextWindowHint) and gets room for twice.
 */
export const probePageSize = (missing: number): number => Math.min(MAX_STORE_PAGE, missing + 1);
export const windowPageSize = (missing: number): number => Math.min(MAX_STORE_PAGE, 2 * missing);

export const positionOf = (item: Listable): ListPosition => ({
  at: item.executionTimeNs,
  taskId: item.taskId,
});

/** Sort order of the list: newer first, then task ID ascending. */
export function compareListed(a: Listable, b: Listable): number {
  if (a.executionTimeNs !== b.executionTimeNs)
    return a.executionTimeNs > b.executionTimeNs ? -1 : 1;
  if (a.taskId === b.taskId) return 0;
  return a.taskId < b.taskId ? -1 : 1;
}

/** Whether `item` comes after `position` in the list. */
export function isAfter(item: Listable, position: ListPosition | undefined): boolean {
  if (!position) return true;
  if (item.executionTimeNs !== position.at) return item.executionTimeNs < position.at;
  return item.taskId > position.taskId;
}

const newestFirst = (a: bigint, b: bigint): number => (a > b ? -1 : a < b ? 1 : 0);

/** Every page of `range` after the first. */
async function readRest<T>(
  read: RangeReader<T>,
  range: RangeQuery,
  first: RangePage<T>,
): Promise<T[]> {
  const items = [...first.items];
  let token = first.nextPageToken;
  while (token) {
    const next = await read(range, MAX_STORE_PAGE, token);
    items.push(...next.items);
    token = next.nextPageToken;
  }
  return items;
}

/**
 * Every match in `[from, range.to]`, where `from` is `range.from` or, when the range holds more
 * than one store page, a higher bound that still leaves at least `missing` matches after
 * `position`: enough for the page, and no more read than that.
 */
async function readRange<T extends Listable>(
  read: RangeReader<T>,
  range: RangeQuery,
  missing: number,
  position: ListPosition | undefined,
  openFirst: boolean,
  /** What the page needs in all: a window's store page has room for twice that. */
  need: number = missing,
): Promise<T[]> {
  const to = range.to;
  let from = range.from;
  if (from === undefined) {
    const first = await read({ to }, probePageSize(missing));
    if (!first.nextPageToken) return first.items;
    const firstLook = openFirst
      ? await closedToComplete(read, first.items, to, missing, position)
      : undefined;
    if (firstLook) return firstLook;
    from = nthNewest(first.items, missing, position);
    if (from === undefined) return readRest(read, { to }, first);
  }
  for (let attempt = 0; ; attempt++) {
    // A widened window may well hold more than the few still missing: room for a page.
    const first = await read({ from, to }, windowPageSize(need));
    if (!first.nextPageToken) return first.items;
    // Over-full: as a first look, this page holds the window's open tasks down to its last.
    const closedAdded = openFirst
      ? await closedToComplete(read, first.items, to, missing, position)
      : undefined;
    if (closedAdded) return closedAdded;
    // Or its own matches bound a narrower window that still holds enough.
    const bound = nthNewest(first.items, missing, position);
    if (attempt < MAX_NARROWING && bound !== undefined && bound > from) {
      from = bound;
      continue;
    }
    return readRest(read, { from, to }, first);
  }
}

/** The time of the n-th newest item after `position`, if there are n. */
function nthNewest(items: Listable[], n: number, position: ListPosition | undefined) {
  return items
    .filter((item) => isAfter(item, position))
    .map((item) => item.executionTimeNs)
    .sort(newestFirst)[n - 1];
}

/**
 * From a first store page of a range (in the store's order), the matches of `[bound, to]` for a
 * bound that leaves `missing`: the page's open tasks are all the open ones down to its last,
 * so only closed tasks are read. Undefined when the page ends among open tasks of one time
 * (more of that time may follow); the caller then reads the window whole.
 */
async function closedToComplete<T extends Listable>(
  read: RangeReader<T>,
  page: T[],
  to: bigint | undefined,
  missing: number,
  position: ListPosition | undefined,
): Promise<T[] | undefined> {
  const openCount = page.findIndex((item) => !item.open);
  const open = openCount === -1 ? page : page.slice(0, openCount);

  let bound: bigint | undefined;
  let upper = to;
  if (open.length === page.length) {
    // Only open tasks: those down to the missing-th usable one are all there are above it,
    // unless the next one in the page has the same time (more may follow beyond the page).
    let seen = 0;
    const last = open.findIndex((item) => isAfter(item, position) && ++seen === missing);
    const next = open[last + 1];
    if (last === -1 || !next || next.executionTimeNs === open[last].executionTimeNs) {
      return undefined;
    }
    bound = open[last].executionTimeNs;
  } else {
    // Open tasks, then closed ones: every open task of the range is in the page.
    bound = nthNewest(page, missing, position);
    if (bound === undefined) return undefined;
    // Closed ones come latest close first, and none started after it closed: a bound above,
    // which keeps a tenant whose last task closed long ago from reading everyone's since.
    const closedLast = page[open.length].closeTimeNs;
    if (closedLast !== undefined && (upper === undefined || closedLast < upper)) upper = closedLast;
  }
  const range: RangeQuery = { from: bound, to: upper, closedOnly: true };
  const closed = await read(range, windowPageSize(missing));
  return [...page, ...(await readRest(read, range, closed))];
}

export interface CollectOptions {
  /** The last task of the previous page; absent for the first page. */
  after?: ListPosition;
  /** How many tasks after `after` are wanted, newest first. */
  need: number;
  /**
   * A window width (ns) below `after` likely to hold `need` tasks, from the previous page. Only
   * a guess: a wrong one costs an extra read, never a wrong answer.
   */
  hintNs?: bigint;
  /**
   * Whether the store returns open executions first, newest start first, as Temporal's SQL and
   * Elasticsearch visibility do (default). False reads every window whole, for any order.
   */
  openFirst?: boolean;
}

/**
 * The first `need` matches after `after`, newest first (fewer when there are no more): each
 * exactly once.
 */
export async function collectNewest<T extends Listable>(
  read: RangeReader<T>,
  { after, need, hintNs, openFirst = true }: CollectOptions,
): Promise<T[]> {
  // A workflow that closes between two reads can be read twice: keep the later read.
  const found = new Map<string, T>();
  const add = (items: T[]): void => {
    for (const item of items) if (isAfter(item, after)) found.set(item.taskId, item);
  };

  let to = after?.at;
  if (after && hintNs !== undefined && hintNs > 0n) {
    // Windows further down, wider each time, while they come back short. A read with no lower
    // bound costs SQL visibility a visit of every task below (it sorts the range before its
    // LIMIT); a window, of what it holds. So quiet spells (a night without submits) and the
    // end of the list are reached by windows.
    let width = hintNs;
    for (let attempt = 0; attempt < MAX_WINDOWS && to !== undefined; attempt++) {
      const from = to - width > 0n ? to - width : 0n;
      const before = found.size;
      add(await readRange(read, { from, to }, need - found.size, after, openFirst, need));
      // A window that was narrowed holds enough by construction; a complete one may not.
      if (found.size >= need || from === 0n) return newest(found, need);
      width *= widening(found.size - before, need - found.size);
      to = from - 1n;
    }
  }
  // No lower bound: a first look at the store tells where the page ends.
  add(await readRange(read, { to }, need - found.size, after, openFirst));
  return newest(found, need);
}

/**
 * Windows read below a cursor before a read with no lower bound. Eight times wider each while
 * empty, twelve reach the epoch from a window of a tenth of a second: the end of the list.
 */
const MAX_WINDOWS = 12;

/**
 * How much wider the next window is, after one that held `seen` tasks when `missing` more are
 * wanted: wide enough at the rate just seen and half again, between 2 and 8 times.
 */
function widening(seen: number, missing: number): bigint {
  if (seen === 0) return 8n;
  return BigInt(Math.min(8, Math.max(2, Math.ceil((1.5 * missing) / seen))));
}

function newest<T extends Listable>(found: Map<string, T>, need: number): T[] {
  return [...found.values()].sort(compareListed).slice(0, need);
}

/**
 * The window width (ns) below the last task of `page` for the page after it, which begins at
 * `next` (the task after `page`, already found). It reaches past `next` by half again the span
 * `page.length` tasks take at the page's own rate, so that at that rate one read holds the next
 * page; a quiet spell between `page` and `next` is stepped over at once. (Measured on 10,000
 * tasks walked 20 at a time: half again is the cheapest on average; twice as wide halves the
 * pages that need a second read but makes every read longer.)
 */
export function nextWindowHint(page: readonly Listable[], next: Listable): bigint {
  const last = page.at(-1);
  if (!last) return 1_000n;
  const gap = last.executionTimeNs - next.executionTimeNs;
  const steps = BigInt(page.length - 1);
  const perTask = steps > 0n ? (page[0].executionTimeNs - last.executionTimeNs) / steps : 0n;
  const span = perTask * BigInt(page.length);
  return gap + span + span / 2n + 1_000n;
}
