import type { TaskSnapshot } from './task-history';

interface Entry {
  runId: string;
  snapshot: TaskSnapshot;
  bytes: number;
}

/** Room for the snapshots of a few thousand ordinary tasks. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** Rough memory of a snapshot: its strings (two bytes a character) and a fixed overhead. */
function sizeOf(snapshot: TaskSnapshot): number {
  const text =
    snapshot.query.length +
    snapshot.result.length +
    snapshot.error.length +
    JSON.stringify(snapshot.context).length;
  return 2 * text + 1024;
}

/**
 * Snapshots of closed tasks. A closed run never changes, so once its close event has been read
 * a status read of it costs one describe call (to learn which run is the latest). Snapshots are
 * shared, never modified; least recently used go first.
 */
export class ClosedTaskCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  /**
   * @param maxBytes bound on the estimated memory of all snapshots kept
   * @param maxEntryBytes larger snapshots (a very large result) are not kept: read from Temporal
   *   each time rather than crowd out hundreds of others
   */
  constructor(
    private readonly maxBytes = DEFAULT_MAX_BYTES,
    private readonly maxEntryBytes = maxBytes / 64,
  ) {}

  /** The snapshot of run `runId` of the task, if kept. */
  get(taskId: string, runId: string): TaskSnapshot | undefined {
    const entry = this.entries.get(taskId);
    if (entry?.runId !== runId) return undefined;
    this.entries.delete(taskId);
    this.entries.set(taskId, entry);
    return entry.snapshot;
  }

  /** Keeps the snapshot of a closed run. */
  set(taskId: string, snapshot: TaskSnapshot): void {
    this.delete(taskId);
    const bytes = sizeOf(snapshot);
    if (bytes > this.maxEntryBytes) return;
    this.entries.set(taskId, { runId: snapshot.runId, snapshot, bytes });
    this.bytes += bytes;
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(taskId: string): void {
    const entry = this.entries.get(taskId);
    if (!entry) return;
    this.bytes -= entry.bytes;
    this.entries.delete(taskId);
  }
}
