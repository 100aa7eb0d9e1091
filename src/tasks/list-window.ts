/**
 * Newest-first pages from a store that cannot sort (Temporal's SQL visibility has no ORDER BY):
 * read a window of execution times that is sure to hold the tasks a page needs, and sort only
 * that window here.
 *
 * The store returns matches in an order of its own (SQL visibility: open workflows first, then
 * closed ones by close time), and can filter on a time range. Any `n` matches of a range tell
 * a lower bound: the range from the n-th newest of them up holds at least `n` matches, so it
 * holds the `n` newest ones. A page therefore costs a read of one narrow window, whatever the
 * number of tasks below it.
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
}

/** Execution times from `from` to `to`, both included; either may be open. */
export interface TimeRange {
  from?: bigint;
  to?: bigint;
}

export interface RangePage<T> {
  items: T[];
  nextPageToken?: Uint8Array;
}

/** A store query restricted to a time range, read a page at a time. */
export type RangeReader<T> = (
  range: TimeRange,
  pageSize: number,
  nextPageToken?: Uint8Array,
) => Promise<RangePage<T>>;

/** Temporal's default (and usual) largest visibility page. */
export const MAX_STORE_PAGE = 1000;
/** Narrowing attempts before a window is read to the end as it is. */
const MAX_NARROWING = 4;

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

/**
 * Store page sizes when `missing` tasks are still wanted. A first look with no lower bound needs
 * only `missing` matches to find where the page ends; a window is expected to hold about half
 * again as many (see nextWindowHint) and gets room for twice.
 */
export const probePageSize = (missing: number): number => Math.min(MAX_STORE_PAGE, missing);
export const windowPageSize = (missing: number): number => Math.min(MAX_STORE_PAGE, 2 * missing);

interface RangeRead<T> {
  items: T[];
  /** The lower end of what was read completely: the range's own, or a narrower one. */
  from?: bigint;
}

/**
 * Every match in `[from, range.to]`, where `from` is `range.from` or, when the range holds more
 * than one store page, a higher bound that still leaves at least `missing` matches after
 * `position`: enough for the page, and no more read than that.
 */
async function readRange<T extends Listable>(
  read: RangeReader<T>,
  range: TimeRange,
  missing: number,
  position: ListPosition | undefined,
): Promise<RangeRead<T>> {
  let from = range.from;
  for (let attempt = 0; ; attempt++) {
    const pageSize = from === undefined ? probePageSize(missing) : windowPageSize(missing);
    const first = await read({ from, to: range.to }, pageSize);
    if (!first.nextPageToken) return { items: first.items, from };

    const times = first.items
      .filter((item) => isAfter(item, position))
      .map((item) => item.executionTimeNs)
      .sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    const bound = times[missing - 1];
    if (attempt < MAX_NARROWING && bound !== undefined && (from === undefined || bound > from)) {
      from = bound;
      continue;
    }
    // Too few usable matches to narrow by (or narrowing no longer helps): read it all.
    const items = [...first.items];
    let token: Uint8Array | undefined = first.nextPageToken;
    while (token) {
      const next = await read({ from, to: range.to }, MAX_STORE_PAGE, token);
      items.push(...next.items);
      token = next.nextPageToken;
    }
    return { items, from };
  }
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
}

/**
 * The first `need` matches after `after`, newest first (fewer when there are no more): each
 * exactly once, whatever order the store returns them in.
 */
export async function collectNewest<T extends Listable>(
  read: RangeReader<T>,
  { after, need, hintNs }: CollectOptions,
): Promise<T[]> {
  // A workflow that closes between two store pages can be read twice: keep the later read.
  const found = new Map<string, T>();
  const add = (items: T[]): void => {
    for (const item of items) if (isAfter(item, after)) found.set(item.taskId, item);
  };

  let to = after?.at;
  if (after && hintNs !== undefined && hintNs > 0n) {
    const from = after.at - hintNs > 0n ? after.at - hintNs : 0n;
    const window = await readRange(read, { from, to: after.at }, need, after);
    add(window.items);
    // A narrowed window holds enough by construction; a complete one may not.
    if (found.size >= need || window.from !== from) return newest(found, need);
    to = from - 1n;
    if (to < 0n) return newest(found, need);
  }
  // No lower bound: the store's first page of what is left tells where the page ends.
  const rest = await readRange(read, { to }, need - found.size, after);
  add(rest.items);
  return newest(found, need);
}

function newest<T extends Listable>(found: Map<string, T>, need: number): T[] {
  return [...found.values()].sort(compareListed).slice(0, need);
}

/**
 * The window width for the page after `page`: half again the span of execution times the
 * page covered, so that at the same rate of submits one read holds the next page.
 */
export function nextWindowHint(
  after: ListPosition | undefined,
  page: readonly Listable[],
): bigint | undefined {
  const last = page.at(-1);
  if (!last) return undefined;
  const top = after?.at ?? page[0].executionTimeNs;
  const span = top - last.executionTimeNs;
  return span + span / 2n + 1_000n;
}
