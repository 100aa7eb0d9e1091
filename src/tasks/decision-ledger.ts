import type { ApprovalsRecord } from '../workflows/approval-contract';
import type { ControlRecord } from '../workflows/contract';
import { KeyedSerializer } from '../common/keyed-serializer';

/**
 * A control decision as the instance that made it knows it, right after its signal reached
 * Temporal. While a worker holds a workflow task Temporal keeps new signals buffered and
 * unwritten, so for a few milliseconds (seconds for a busy worker) this is the only place the
 * decision can be read from.
 */
export interface RecentDecision {
  runId: string;
  /** The control state the signal leads to, with its version. */
  control: ControlRecord;
  /** RFC 3339: when it was decided (the signal's `requested_at`). */
  decidedAt: string;
  /** Tasks with approval gates: their approvals after the decision. */
  approvals?: ApprovalsRecord;
}

/** How long a decision is kept; Temporal writes a buffered signal within its task timeout (10 s). */
export const DECISION_TTL_MS = 10 * 60_000;

/**
 * Serializes the control decisions on each task (check the state, then signal) and remembers
 * the last one for readers, so that a decision is exact whatever Temporal has written yet.
 */
export abstract class DecisionLedger {
  /**
   * Runs `decide` while no other decision on the same task runs, in this process or in any
   * other that shares this ledger. `decide` gets the last recorded decision, and returns its
   * value and the decision to record (none when it sent nothing).
   */
  abstract exclusive<T>(
    taskId: string,
    decide: (recent: RecentDecision | undefined) => Promise<[T, RecentDecision?]>,
  ): Promise<T>;

  /** The last decision recorded for the task, if it is recent enough to matter. */
  abstract recent(taskId: string): Promise<RecentDecision | undefined>;
}

/** One process's decisions: exact for a single API instance. */
export class MemoryDecisionLedger extends DecisionLedger {
  private readonly serial = new KeyedSerializer();
  private readonly decisions = new Map<string, { decision: RecentDecision; expiresAt: number }>();

  constructor(private readonly maxEntries = 10_000) {
    super();
  }

  exclusive<T>(
    taskId: string,
    decide: (recent: RecentDecision | undefined) => Promise<[T, RecentDecision?]>,
  ): Promise<T> {
    return this.serial.run(taskId, async () => {
      const [value, decision] = await decide(this.get(taskId));
      if (decision) this.record(taskId, decision);
      return value;
    });
  }

  recent(taskId: string): Promise<RecentDecision | undefined> {
    return Promise.resolve(this.get(taskId));
  }

  /** Runs a decision in this process's order only (used when a shared ledger is down). */
  local<T>(taskId: string, operation: () => Promise<T>): Promise<T> {
    return this.serial.run(taskId, operation);
  }

  record(taskId: string, decision: RecentDecision, now = Date.now()): void {
    this.decisions.delete(taskId);
    this.decisions.set(taskId, { decision, expiresAt: now + DECISION_TTL_MS });
    // Insertion order is age order: drop the oldest beyond the bound.
    for (const oldest of this.decisions.keys()) {
      if (this.decisions.size <= this.maxEntries) break;
      this.decisions.delete(oldest);
    }
  }

  private get(taskId: string, now = Date.now()): RecentDecision | undefined {
    const entry = this.decisions.get(taskId);
    if (entry && entry.expiresAt <= now) this.decisions.delete(taskId);
    return entry && entry.expiresAt > now ? entry.decision : undefined;
  }
}
