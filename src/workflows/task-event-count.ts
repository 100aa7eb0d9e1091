/**
 * The task workflow's count of its own task events, written with every record (MEMO_TASK_EVENTS)
 * so a reader can number the events after any record without folding the history before it.
 * Bundled into the workflow sandbox: no Node built-ins, no NestJS.
 *
 * The count is what the API's fold (TaskHistoryFold) emits from the first history event up to
 * and including the record's upsert. It agrees by construction, event by event:
 * - the start is one event;
 * - a signal is one when it changed the control record or the approvals (the workflow and the
 *   fold apply the same rules, applyControlSignal and applyApprovalDecision, to the same state);
 * - a record is one when readRecord says so: the fold applies it too, to the same knowledge
 *   (what the signals and records before it told).
 *
 * One thing the workflow cannot see when it records: Temporal writes every signal a workflow
 * task delivers before that task's commands, so a record made while handling the first of two
 * signals of one workflow task comes after both in history. Each record therefore remembers
 * how many signals it had counted, and when the activation concludes (all its signals handled)
 * the workflow interceptor has every record of it rewritten with the signals counted after it
 * added (concludeTaskEventCount). Until then a record made in a signal handler holds no count
 * (null: readers take it for none), so a worker without the interceptor never writes a wrong one.
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { ApprovalsRecord } from './approval-contract';
import { type ControlRecord, MEMO_TASK_EVENTS } from './contract';
import { type RecordKnowledge, readRecord } from './recorded-change';

/** What signals change: the task's control record and its approvals. */
export interface SignalledState {
  control: ControlRecord;
  approvals: ApprovalsRecord;
}

/** The part of a workflow command that an upsert of the memo fills in. */
export interface MemoCommand {
  modifyWorkflowProperties?: {
    upsertedMemo?: { fields?: Record<string, Payload> | null } | null;
  } | null;
}

export class TaskEventCount {
  /** The task's events so far: its start is the first. */
  private events = 1;
  /** What a reader of the history knows at this point (see readRecord). */
  private known: RecordKnowledge = { controlVersion: 0 };
  /** The signal being handled: the state before it, and whether it counted yet. */
  private signal?: { before: SignalledState; counted: boolean };
  /** Signals counted in the current activation. */
  private signalsCounted = 0;
  /** The current activation's records, in order: the count each had and the signals by then. */
  private records: { count: number; signalsCounted: number }[] = [];

  /** `state` reads the workflow's control record and approvals as they are now. */
  constructor(private readonly state: () => SignalledState) {}

  /** Handles one signal (`handle` applies it); records made meanwhile follow its change. */
  duringSignal(handle: () => void): void {
    this.signal = { before: this.state(), counted: false };
    try {
      handle();
    } finally {
      this.signalSeen();
      this.signal = undefined;
    }
  }

  /**
   * The count to write with a record of `memo` (the keys the fold reads: control, progress,
   * approvals); null while a signal is handled (see the file's comment).
   */
  record(memo: Record<string, unknown>): number | null {
    this.signalSeen();
    const reading = readRecord(this.known, memo);
    this.known = reading.known;
    if (reading.event) this.events++;
    this.records.push({ count: this.events, signalsCounted: this.signalsCounted });
    return this.signal ? null : this.events;
  }

  /**
   * The activation's commands, once every job of it ran: its upserts get their final counts.
   * Left alone if they are not exactly this activation's records (nothing is guessed).
   */
  conclude(commands: readonly MemoCommand[]): void {
    const records = this.records;
    const signals = this.signalsCounted;
    this.records = [];
    this.signalsCounted = 0;
    const upserts = commands.flatMap((command) => {
      const fields = command.modifyWorkflowProperties?.upsertedMemo?.fields;
      return fields && MEMO_TASK_EVENTS in fields ? [fields] : [];
    });
    if (upserts.length !== records.length) return;
    upserts.forEach((fields, i) => {
      const { count, signalsCounted } = records[i];
      fields[MEMO_TASK_EVENTS] = defaultPayloadConverter.toPayload(
        count + signals - signalsCounted,
      );
    });
  }

  /** The handled signal's effect, as the fold folds it from the signal's event. */
  private signalSeen(): void {
    const signal = this.signal;
    if (!signal) return;
    const now = this.state();
    const approvalsChanged = now.approvals !== signal.before.approvals;
    if (now.control === signal.before.control && !approvalsChanged) return;
    this.known = {
      ...this.known,
      controlVersion: Math.max(this.known.controlVersion, now.control.version),
      ...(approvalsChanged && { approvals: now.approvals }),
    };
    if (signal.counted) return;
    signal.counted = true;
    this.events++;
    this.signalsCounted++;
  }
}

/** This workflow execution's count (workflow modules are loaded once per execution). */
let current: TaskEventCount | undefined;

/** Starts the count of this workflow execution's task events. */
export function countTaskEvents(state: () => SignalledState): TaskEventCount {
  current = new TaskEventCount(state);
  return current;
}

/** Called by the workflow interceptor as each activation concludes. */
export function concludeTaskEventCount(commands: readonly MemoCommand[]): void {
  current?.conclude(commands);
}
