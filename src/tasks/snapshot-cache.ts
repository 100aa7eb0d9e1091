import type { HistoryVersion } from '../temporal/task-workflow.gateway';
import type { TaskSnapshot } from './task-history';

interface Entry {
  runId: string;
  length: number;
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
 * Task snapshots by the history they were folded from. A run's history only ever grows, so the
 * snapshot of its first n events stays exact for as long as Temporal reports that run with n
 * events and no workflow task in flight: a status read then costs one describe call instead of
 * reading the whole history. Snapshots are shared, never modified; least recently used go first.
 */
export class SnapshotCache {
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

  /** The snapshot folded from exactly this version of the task's history, if kept. */
  get(taskId: string, version: HistoryVersion): TaskSnapshot | undefined {
    const entry = this.entries.get(taskId);
    if (!version.settled || entry?.runId !== version.runId || entry.length !== version.length) {
      return undefined;
    }
    this.entries.delete(taskId);
    this.entries.set(taskId, entry);
    return entry.snapshot;
  }

  /** Keeps the snapshot folded from the first `length` events of run `runId`. */
  set(taskId: string, runId: string, length: number, snapshot: TaskSnapshot): void {
    this.delete(taskId);
    const bytes = sizeOf(snapshot);
    if (bytes > this.maxEntryBytes) return;
    this.entries.set(taskId, { runId, length, snapshot, bytes });
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
