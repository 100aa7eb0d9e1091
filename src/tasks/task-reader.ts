import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import {
  TaskWorkflowGateway,
  type HistoryEvent,
  type WorkflowDescription,
} from '../temporal/task-workflow.gateway';
import { ClosedTaskCache } from './closed-task-cache';
import { DecisionLedger, RecentDecision } from './decision-ledger';
import { TaskNotFoundError } from './errors';
import {
  TaskHistoryFold,
  TaskSnapshot,
  isWorkflowTaskCompleted,
  snapshotFromMemo,
} from './task-history';

/** The events after the workflow's last completed task; all of them when it never completed one. */
function afterLastCompletedTask(tail: readonly HistoryEvent[]): readonly HistoryEvent[] {
  for (let i = tail.length - 1; i >= 0; i--) {
    if (isWorkflowTaskCompleted(tail[i])) return tail.slice(i + 1);
  }
  return tail;
}

const reachesBackToCompletedTask = (events: readonly HistoryEvent[]): boolean =>
  events.some(isWorkflowTaskCompleted);

/**
 * Reads a task as it stands now at a cost that does not grow with its history:
 *
 * - One describe call gives the memo, where the workflow keeps its state as of its last
 *   completed workflow task, and whether a workflow task is outstanding. With none, every event
 *   written has been processed, so the memo is the whole truth (the common case).
 * - With one outstanding, or once the task is closed, the events after the last completed task
 *   are read backwards from the end (a handful) and folded on top: signals Temporal accepted
 *   that no worker has applied yet, and the close.
 * - While a worker holds a workflow task, Temporal keeps new signals unwritten. The decision
 *   ledger has the decisions this deployment made meanwhile; a newer one than Temporal shows
 *   wins.
 *
 * A closed run never changes: its snapshot is kept and then costs the describe call only.
 */
@Injectable()
export class TaskReader {
  private readonly closed = new ClosedTaskCache();

  constructor(
    private readonly workflows: TaskWorkflowGateway,
    private readonly ledger: DecisionLedger,
  ) {}

  /** The task for a read; another tenant's task does not exist. */
  current(principal: Principal, taskId: string): Promise<TaskSnapshot> {
    return this.read(principal, taskId, () => this.ledger.recent(taskId));
  }

  /** The task for a decision, given the last decision recorded for it. */
  forDecision(
    principal: Principal,
    taskId: string,
    recent: RecentDecision | undefined,
  ): Promise<TaskSnapshot> {
    return this.read(principal, taskId, () => Promise.resolve(recent));
  }

  private async read(
    principal: Principal,
    taskId: string,
    recent: () => Promise<RecentDecision | undefined>,
  ): Promise<TaskSnapshot> {
    const described = await this.workflows.describe(taskId);
    const task =
      (!described.open && this.closed.get(taskId, described.runId)) ||
      (await this.fromTemporal(taskId, described, recent));
    if (task?.tenantId !== principal.tenantId) throw new TaskNotFoundError();
    return task;
  }

  private async fromTemporal(
    taskId: string,
    described: WorkflowDescription,
    recent: () => Promise<RecentDecision | undefined>,
  ): Promise<TaskSnapshot | undefined> {
    const { runId, open, memo, startTime, pendingWorkflowTask } = described;
    let task = snapshotFromMemo(taskId, runId, memo, startTime);
    if (!task) return undefined;
    if (pendingWorkflowTask === 'started') task.started = true;
    if (!open || pendingWorkflowTask !== 'none') {
      const tail = await this.workflows.readBackwards(taskId, runId, reachesBackToCompletedTask);
      const fold = new TaskHistoryFold(taskId, runId, task);
      for (const event of afterLastCompletedTask(tail)) fold.apply(event);
      task = fold.snapshot!;
    }
    if (open && pendingWorkflowTask === 'started') {
      const decision = await recent();
      if (decision?.runId === runId && decision.control.version > task.control.version) {
        task.control = decision.control;
        task.updatedAt = new Date(decision.decidedAt);
      }
    }
    if (!open) this.closed.set(taskId, task);
    return task;
  }
}
