import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { DecisionLedger } from '../tasks/decision-ledger';
import { TaskNotFoundError, TaskStateConflictError } from '../tasks/errors';
import { TaskChanges } from '../tasks/task-changes';
import type { TaskSnapshot } from '../tasks/task-history';
import { TaskReader } from '../tasks/task-reader';
import { requestOrigin } from '../tasks/tasks.service';
import { TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import {
  APPROVAL_SIGNAL,
  ApprovalDecisionRequest,
  ApprovalRecord,
  applyApprovalDecision,
  initialApprovals,
  rejectedReason,
} from '../workflows/approval-contract';
import { CANCEL_SIGNAL, applyControlSignal } from '../workflows/contract';
import { ApprovalNotFoundError } from './errors';

export interface ApprovalDecision {
  taskId: string;
  approvalId: string;
  approved: boolean;
  feedback?: string;
}

/**
 * Decisions on approval gates. Like pause and resume, a decision checks the task's state and
 * signals it while no other decision on the task runs (on any instance sharing the decision
 * ledger), and is recorded there until Temporal shows it: a second decision is refused exactly,
 * even before a worker has seen the first.
 */
@Injectable()
export class ApprovalsService {
  constructor(
    private readonly workflows: TaskWorkflowGateway,
    private readonly reader: TaskReader,
    private readonly ledger: DecisionLedger,
    private readonly changes: TaskChanges,
  ) {}

  /** Sends the decision; resolves to the task's run. */
  async decide(principal: Principal, decision: ApprovalDecision): Promise<{ runId: string }> {
    const { taskId, approvalId } = decision;
    const result = await this.ledger.exclusive(taskId, async (recent) => {
      const task = await this.reader.forDecision(principal, taskId, recent);
      this.refuse(task, approvalId);
      const request: ApprovalDecisionRequest = {
        approval_id: approvalId,
        approved: decision.approved,
        feedback: decision.feedback ?? '',
        requested_by: principal.userId,
        requested_at: new Date().toISOString(),
        ...requestOrigin(principal),
      };
      try {
        await this.workflows.signal(taskId, APPROVAL_SIGNAL, request);
        // A rejection ends the task CANCELLED, which only a cancellation request can do.
        if (!decision.approved) await this.workflows.cancel(taskId, undefined);
      } catch (err) {
        // Closed after the check: the documented conflict, not a false 404.
        if (err instanceof TaskNotFoundError) {
          this.refuse(await this.reader.current(principal, taskId), approvalId);
        }
        throw err;
      }
      const at = new Date(request.requested_at!);
      const control = decision.approved
        ? task.control
        : applyControlSignal(
            task.control,
            CANCEL_SIGNAL,
            { reason: rejectedReason(request.feedback), requested_by: request.requested_by },
            at,
          );
      const approvals = applyApprovalDecision(task.approvals ?? initialApprovals(), request, at);
      return [
        { runId: task.runId },
        { runId: task.runId, control, approvals, decidedAt: request.requested_at! },
      ];
    });
    this.changes.notify(taskId);
    return result;
  }

  /** The task's approvals, oldest first. */
  async list(principal: Principal, taskId: string): Promise<ApprovalRecord[]> {
    const task = await this.reader.current(principal, taskId);
    return task.approvals?.approvals ?? [];
  }

  /** Why the task cannot take a decision on this approval now, if it cannot. */
  private refuse(task: TaskSnapshot, approvalId: string): void {
    const approvals = task.approvals ?? initialApprovals();
    const approval = approvals.approvals.find((a) => a.approval_id === approvalId);
    if (!approval) throw new ApprovalNotFoundError();
    if (approval.state !== 'pending') throw new TaskStateConflictError('approval already decided');
    if (
      approvals.pending?.approval_id !== approvalId ||
      task.terminal ||
      task.control.is_cancelled
    ) {
      throw new TaskStateConflictError('task is no longer waiting for this approval');
    }
  }
}
