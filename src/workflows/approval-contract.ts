/**
 * The Temporal contract of approval gates: what a task asks for at submit, the decision signal,
 * and the approvals as the control record keeps them. Bundled into the workflow sandbox: no
 * Node built-ins, no NestJS.
 */
import { type ActionOrigin, toActionOrigin } from './contract';

export const APPROVAL_TIMEOUT_POLICIES = ['reject', 'approve'] as const;
export type ApprovalTimeoutPolicy = (typeof APPROVAL_TIMEOUT_POLICIES)[number];

/** The longest wait for a decision: a week, as for pause deadlines. */
export const MAX_APPROVAL_TIMEOUT_SECONDS = 604_800;

/** A task's approval gates, as submitted (defaults resolved). */
export interface ApprovalSpec {
  /** Checkpoint names (`pre_planning`, `pre_step_<n>`, `pre_synthesis`, `pre_completion`). */
  checkpoints: string[];
  /** How long a request waits for a decision; none: for ever. */
  timeout_seconds?: number;
  on_timeout: ApprovalTimeoutPolicy;
}

/** The signal that carries a decision. */
export const APPROVAL_SIGNAL = 'approval_decision_v1';

export type ApprovalState = 'pending' | 'approved' | 'rejected' | 'expired';

/** A request for a decision that the task waits for, while it waits. */
export interface PendingApproval {
  approval_id: string;
  checkpoint: string;
  /** RFC 3339. */
  requested_at: string;
}

/** One approval of a task, as `GET /tasks/{id}/approvals` lists it. */
export interface ApprovalRecord extends PendingApproval {
  state: ApprovalState;
  /** RFC 3339, or "" while pending. */
  decided_at: string;
  /** The principal (`user_id`) that decided, `system` for an expiry; "" while pending. */
  decided_by: string;
  feedback: string;
}

/** The approval ID of a gated checkpoint: a checkpoint is passed at most once per task. */
export const approvalIdOf = (taskId: string, checkpoint: string): string =>
  `apr_${taskId}_${checkpoint}`;

/** Why a task whose approval was rejected was cancelled. */
export const rejectedReason = (feedback: string): string => `approval rejected: ${feedback}`;
/** Why a task whose approval expired with `on_timeout: reject` was cancelled. */
export const APPROVAL_TIMED_OUT = 'approval timed out';

const isPolicy = (value: unknown): value is ApprovalTimeoutPolicy =>
  (APPROVAL_TIMEOUT_POLICIES as readonly unknown[]).includes(value);

/** A task's approval gates read back from its input or memo; undefined when it has none. */
export function toApprovalSpec(value: unknown): ApprovalSpec | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v.checkpoints)) return undefined;
  const seconds = v.timeout_seconds;
  return {
    checkpoints: v.checkpoints.filter((c): c is string => typeof c === 'string'),
    ...(typeof seconds === 'number' &&
      Number.isInteger(seconds) &&
      seconds >= 1 &&
      seconds <= MAX_APPROVAL_TIMEOUT_SECONDS && { timeout_seconds: seconds }),
    on_timeout: isPolicy(v.on_timeout) ? v.on_timeout : 'reject',
  };
}

const isApprovalState = (value: unknown): value is ApprovalState =>
  value === 'pending' || value === 'approved' || value === 'rejected' || value === 'expired';

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Approvals read back from a control record; malformed entries are left out. */
export function toApprovalRecords(value: unknown): ApprovalRecord[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown): ApprovalRecord[] => {
    if (typeof entry !== 'object' || entry === null) return [];
    const e = entry as Record<string, unknown>;
    if (typeof e.approval_id !== 'string' || !isApprovalState(e.state)) return [];
    return [
      {
        approval_id: e.approval_id,
        checkpoint: str(e.checkpoint),
        requested_at: str(e.requested_at),
        state: e.state,
        decided_at: str(e.decided_at),
        decided_by: str(e.decided_by),
        feedback: str(e.feedback),
      },
    ];
  });
}

/** A pending approval read back from a control record, or null. */
export function toPendingApproval(value: unknown): PendingApproval | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.approval_id !== 'string') return null;
  return {
    approval_id: v.approval_id,
    checkpoint: str(v.checkpoint),
    requested_at: str(v.requested_at),
  };
}

/**
 * A decision as the signal carries it. `requested_by` names the principal, never a key; the
 * origin (key name, request and trace) is the audit trail's.
 */
export interface ApprovalDecisionRequest extends ActionOrigin {
  approval_id: string;
  approved: boolean;
  feedback: string;
  requested_by: string;
  /** RFC 3339: when the API accepted it. */
  requested_at?: string;
}

/** Accepts only well-formed decision payloads; anything else decides nothing. */
export function toApprovalDecision(value: unknown): ApprovalDecisionRequest | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.approval_id !== 'string' || typeof v.approved !== 'boolean') return undefined;
  return {
    approval_id: v.approval_id,
    approved: v.approved,
    feedback: str(v.feedback),
    requested_by: str(v.requested_by),
    ...(typeof v.requested_at === 'string' && { requested_at: v.requested_at }),
    ...toActionOrigin(v),
  };
}

/**
 * The approvals of a task: the one it waits for, and every one so far. `version` counts the
 * changes (a request, a decision, an expiry), so a reader can tell the newer of two records.
 */
export interface ApprovalsRecord {
  version: number;
  pending: PendingApproval | null;
  approvals: ApprovalRecord[];
}

export const initialApprovals = (): ApprovalsRecord => ({
  version: 0,
  pending: null,
  approvals: [],
});

/** An approvals record read back from a memo or a decision; undefined when it is not one. */
export function toApprovalsRecord(value: unknown): ApprovalsRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.version !== 'number') return undefined;
  return {
    version: v.version,
    pending: toPendingApproval(v.pending),
    approvals: toApprovalRecords(v.approvals),
  };
}

/** The task reached a gated checkpoint and waits for a decision from now on. */
export function requestApproval(
  state: ApprovalsRecord,
  approvalId: string,
  checkpoint: string,
  at: Date,
): ApprovalsRecord {
  const pending = { approval_id: approvalId, checkpoint, requested_at: at.toISOString() };
  return {
    version: state.version + 1,
    pending,
    approvals: [
      ...state.approvals,
      { ...pending, state: 'pending', decided_at: '', decided_by: '', feedback: '' },
    ],
  };
}

function settle(
  state: ApprovalsRecord,
  approvalId: string,
  outcome: Pick<ApprovalRecord, 'state' | 'decided_at' | 'decided_by' | 'feedback'>,
): ApprovalsRecord {
  if (state.pending?.approval_id !== approvalId) return state;
  return {
    version: state.version + 1,
    pending: null,
    approvals: state.approvals.map((a) =>
      a.approval_id === approvalId ? { ...a, ...outcome } : a,
    ),
  };
}

/**
 * The one rule for a decision: it settles the approval the task waits for, and nothing else (a
 * decision on any other approval, or a second one, changes nothing). Used by the workflow, by
 * the API's fold of history and by its record of recent decisions, so all three agree.
 */
export function applyApprovalDecision(
  state: ApprovalsRecord,
  decision: ApprovalDecisionRequest,
  at: Date,
): ApprovalsRecord {
  return settle(state, decision.approval_id, {
    state: decision.approved ? 'approved' : 'rejected',
    decided_at: at.toISOString(),
    decided_by: decision.requested_by,
    feedback: decision.feedback,
  });
}

/** The rule for a request whose timeout passed undecided: expired, by `system`. */
export function expireApproval(
  state: ApprovalsRecord,
  approvalId: string,
  at: Date,
): ApprovalsRecord {
  return settle(state, approvalId, {
    state: 'expired',
    decided_at: at.toISOString(),
    decided_by: 'system',
    feedback: '',
  });
}
