/** The delay a worker's notice starts from, before this instance has seen any... */
const INITIAL_MS = 20;
/** ...and its bounds: a read later than this waits for a busy Temporal, follow-ups do that. */
const MIN_MS = 2;
const MAX_MS = 1000;
/**
 * A first read that found the change shortens the delay by this factor; one that came too early
 * lengthens it by the other. In balance about four first reads in five find the change: the
 * delay settles near the 80th percentile of how long Temporal takes to write.
 */
const SHORTER = 0.95;
const LONGER = 1.25;

/**
 * How long after a worker's change notice this instance reads the task. A worker sends the
 * notice as it answers Temporal, so Temporal writes the change a moment later, longer when it
 * is busy: a read at once finds nothing and costs a second read. The delay follows what the
 * first reads find, for all tasks this instance follows.
 */
export class NoticeDelay {
  private ms = INITIAL_MS;

  /** Milliseconds from a worker's notice to its first read. */
  get current(): number {
    return Math.round(this.ms);
  }

  /** What the first read after a notice found: the change, or nothing yet. */
  firstRead(found: boolean): void {
    this.ms = Math.min(MAX_MS, Math.max(MIN_MS, this.ms * (found ? SHORTER : LONGER)));
  }
}
