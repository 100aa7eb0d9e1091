/**
 * The one rule for what a memo record of the task workflow stands for, as a reader of its
 * history meets it: a task event (a step done, a pause begun, a request for approval, ...) or
 * nothing. The API's fold of the history (TaskHistoryFold) and the workflow's own count of its
 * task events (TaskEventCount) both apply it, to the same records and what was known before
 * each, so they agree on every record by construction. Bundled into the workflow sandbox: no
 * Node built-ins, no NestJS.
 */
import {
  type ApprovalRecord,
  type ApprovalsRecord,
  type PendingApproval,
  initialApprovals,
  toApprovalsRecord,
} from './approval-contract';
import {
  type ControlRecord,
  type OnTimeout,
  type TaskProgress,
  MEMO_APPROVALS,
  MEMO_CONTROL,
  MEMO_PROGRESS,
  toControlRecord,
} from './contract';

/**
 * What a reader of the history knows when it reaches a record, from the signals and records
 * before it. Signals are in history before the workflow task that applies them, so a reader has
 * folded every signal the workflow had applied when it recorded (and perhaps a few more).
 */
export interface RecordKnowledge {
  /** The highest control version seen, from signals and records alike. */
  controlVersion: number;
  /** The approvals as the last change seen left them (a decision signal or a newer record). */
  approvals?: ApprovalsRecord;
  /** The progress of the last record taken as a step of progress. */
  progress?: TaskProgress;
}

/** The task event a record stands for. */
export type RecordedEvent =
  /** A pause deadline passed with `resume` or `cancel` (with `fail`, WORKFLOW_FAILED tells it). */
  | { kind: 'deadline'; policy: Exclude<OnTimeout, 'fail'> }
  | { kind: 'approval_requested'; pending: PendingApproval }
  | { kind: 'approval_expired'; approval: ApprovalRecord }
  | { kind: 'paused'; progress: TaskProgress }
  | { kind: 'step_done'; progress: TaskProgress }
  | { kind: 'checkpoint'; progress: TaskProgress };

/** What a reader learns from one record. */
export interface RecordReading {
  /** What it knows after the record. */
  known: RecordKnowledge;
  /** The task event the record stands for, if any. */
  event?: RecordedEvent;
  /** Set when the record tells of a pause deadline the workflow applied: its control record. */
  timedOut?: ControlRecord;
}

/**
 * Reads one record (the memo fields of one upsert) after `known`. A control version past every
 * one seen is a change the workflow made by itself (a pause deadline), as is an approvals version
 * past the one known (a request, an expiry: decisions are signals, folded before); otherwise one
 * record is one step of progress: a checkpoint passed, a step done, a pause begun. A cancelled
 * task's records stand for nothing (its close tells it).
 */
export function readRecord(known: RecordKnowledge, memo: Record<string, unknown>): RecordReading {
  const control = toControlRecord(memo[MEMO_CONTROL]);
  if (control && control.version > known.controlVersion) {
    known = { ...known, controlVersion: control.version };
    if (control.timed_out) {
      const policy = control.timed_out;
      return {
        known,
        timedOut: control,
        ...(policy !== 'fail' && { event: { kind: 'deadline', policy } }),
      };
    }
  }
  const approvals = toApprovalsRecord(memo[MEMO_APPROVALS]);
  if (approvals && approvals.version > (known.approvals?.version ?? 0)) {
    const before = known.approvals ?? initialApprovals();
    known = { ...known, approvals };
    const event = approvalsChanged(before, approvals);
    if (event) return { known, event };
  }
  const progress = memo[MEMO_PROGRESS] as TaskProgress | undefined;
  if (!progress) return { known };
  const previous = known.progress;
  known = { ...known, progress };
  if (progress.cancelled) return { known };
  if (progress.waiting && !previous?.waiting) return { known, event: { kind: 'paused', progress } };
  if (progress.steps_done !== (previous?.steps_done ?? 0)) {
    return { known, event: { kind: 'step_done', progress } };
  }
  // A record made before the first checkpoint (a signal handled first) passed none.
  if (progress.checkpoint !== (previous?.checkpoint ?? '')) {
    return { known, event: { kind: 'checkpoint', progress } };
  }
  return { known };
}

/** What the workflow did by itself to its approvals: asked for a decision, or let one expire. */
function approvalsChanged(
  before: ApprovalsRecord,
  after: ApprovalsRecord,
): RecordedEvent | undefined {
  const pending = after.pending;
  if (pending && pending.approval_id !== before.pending?.approval_id) {
    return { kind: 'approval_requested', pending };
  }
  const waitedFor = before.pending;
  const expired = waitedFor
    ? after.approvals.find((a) => a.approval_id === waitedFor.approval_id && a.state === 'expired')
    : undefined;
  return expired && { kind: 'approval_expired', approval: expired };
}
