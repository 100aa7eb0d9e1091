import { condition } from '@temporalio/workflow';
import {
  ApprovalDecisionRequest,
  ApprovalSpec,
  ApprovalsRecord,
  applyApprovalDecision,
  approvalIdOf,
  expireApproval,
  initialApprovals,
  requestApproval,
} from './approval-contract';

/** What the gate needs from the workflow around it. */
export interface ApprovalGateHooks {
  /** The approvals changed at `at` (a request, an expiry): record them. */
  changed(at: Date): void;
  /** Whether the task is cancelled: nothing is waited for then. */
  cancelled(): boolean;
  /** A request expired with `on_timeout: reject`: the task ends CANCELLED by `system`. */
  expiredRejected(at: Date): void;
}

/**
 * A task's approval gates: at a gated checkpoint the task asks for a decision and waits for it,
 * for at most `timeout_seconds`. Decisions arrive as signals (through the workflow's one signal
 * handler, in history order) and are applied by the contract's one rule. A task without gates
 * issues no command and records nothing here, so its history is what it always was.
 */
export class ApprovalGate {
  approvals: ApprovalsRecord = initialApprovals();

  constructor(
    private readonly taskId: string,
    private readonly spec: ApprovalSpec | undefined,
    private readonly hooks: ApprovalGateHooks,
  ) {}

  /** Whether the task has gates at all (and so approvals in its memo). */
  get active(): boolean {
    return this.spec !== undefined;
  }

  /** A decision signal; true when it settled the pending request. */
  decide(decision: ApprovalDecisionRequest, at: Date): boolean {
    const next = applyApprovalDecision(this.approvals, decision, at);
    if (next === this.approvals) return false;
    this.approvals = next;
    return true;
  }

  /**
   * At a checkpoint: when it is gated, asks for a decision and waits until one arrives, the
   * request expires or the task is cancelled. Returns whether the task may go on as far as
   * approvals are concerned (a rejection also cancels the task: the caller sees that).
   */
  async pass(checkpoint: string): Promise<void> {
    if (!this.spec?.checkpoints.includes(checkpoint) || this.hooks.cancelled()) return;
    const id = approvalIdOf(this.taskId, checkpoint);
    this.approvals = requestApproval(this.approvals, id, checkpoint, new Date());
    this.hooks.changed(new Date());
    const settled = () => this.approvals.pending?.approval_id !== id || this.hooks.cancelled();
    const seconds = this.spec.timeout_seconds;
    const inTime = seconds ? await condition(settled, seconds * 1000) : await condition(settled);
    if (inTime !== false) return;
    const at = new Date();
    this.approvals = expireApproval(this.approvals, id, at);
    if (this.spec.on_timeout === 'approve') {
      this.hooks.changed(at);
      return;
    }
    this.hooks.expiredRejected(at);
  }
}
