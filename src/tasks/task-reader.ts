import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** Longest wait for a workflow task in flight to end: Temporal's task timeout is 10 s. */
const SETTLE_TIMEOUT_MS = 11_000;

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
 *   wins. A ledger of this instance alone cannot know another instance's decision: then the
 *   read waits for that workflow task to end (milliseconds with a healthy worker) and reads
 *   again. With a shared ledger (Redis) no read ever waits.
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
    let described = await this.workflows.describe(taskId);
    let task =
      (!described.open && this.closed.get(taskId, described.runId)) ||
      (await this.fromTemporal(taskId, described, recent));
    if (task === 'unsettled') {
      // Only the workflow task in flight now can hold back a signal sent before this read;
      // once it has ended, what Temporal shows includes it.
      described = await this.workflowTaskEnded(taskId, described);
      task = await this.fromTemporal(taskId, described, recent, false);
    }
    if (task === 'unsettled' || task?.tenantId !== principal.tenantId) {
      throw new TaskNotFoundError();
    }
    return task;
  }

  /**
   * Describes the task until the workflow task in flight in `described` has ended: milliseconds
   * with a healthy worker; at worst Temporal's workflow task timeout (10 s) when the worker died.
   */
  private async workflowTaskEnded(
    taskId: string,
    described: WorkflowDescription,
  ): Promise<WorkflowDescription> {
    const giveUpAt = Date.now() + SETTLE_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      await sleep(Math.min(5 * 2 ** attempt, 100));
      const now = await this.workflows.describe(taskId);
      if (
        now.runId !== described.runId ||
        now.pendingWorkflowTask !== 'started' ||
        now.pendingWorkflowTaskId !== described.pendingWorkflowTaskId ||
        Date.now() > giveUpAt
      ) {
        return now;
      }
    }
  }

  /**
   * The task as Temporal shows it; 'unsettled' when a workflow task in flight may hold back a
   * signal from an instance this one does not share decisions with (and `settle` allows waiting).
   */
  private async fromTemporal(
    taskId: string,
    described: WorkflowDescription,
    recent: () => Promise<RecentDecision | undefined>,
    settle = true,
  ): Promise<TaskSnapshot | undefined | 'unsettled'> {
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
      } else if (settle && !this.ledger.shared) {
        return 'unsettled';
      }
    }
    if (!open) this.closed.set(taskId, task);
    return task;
  }
}
