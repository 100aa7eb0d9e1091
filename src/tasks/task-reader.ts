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

/** What a start writes: the started event and its first workflow task, scheduled. */
const START_EVENT_COUNT = 2;

const reachesBackToCompletedTask = (events: readonly HistoryEvent[]): boolean =>
  events.some(isWorkflowTaskCompleted);

/**
 * Reads a task as it stands now at a cost that does not grow with its history:
 *
 * - One describe call gives the memo, where the workflow keeps its state as of its last
 *   completed workflow task, and whether a workflow task is outstanding. With none, every event
 *   written has been processed, so the memo is the whole truth (the common case).
 * - With one outstanding, some control signals may not be in the memo yet: written to the
 *   history but not yet processed, or (while a worker holds a workflow task) still held back
 *   by Temporal, unwritten. The decision ledger has every decision this deployment made (all
 *   instances with REDIS_URL; this one's without): when it holds one at least as new as the
 *   memo, it is the latest control state. Otherwise the events after the last completed
 *   workflow task are read backwards from the end (a handful) and folded on top, unless the
 *   history is still only the start and its first workflow task (queued, never signalled;
 *   or that task started by a worker): then the memo is the start record, the whole truth.
 * - Once the task is closed, the same few events give the close; a closed run never changes,
 *   so its snapshot is kept and later reads cost the describe call only.
 *
 * No read waits for a workflow task to end. Signals sent to the workflow by other clients than
 * this API are seen once the workflow has processed them.
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

  /** The task as Temporal and the decision ledger show it; undefined for a foreign workflow. */
  private async fromTemporal(
    taskId: string,
    described: WorkflowDescription,
    recent: () => Promise<RecentDecision | undefined>,
  ): Promise<TaskSnapshot | undefined> {
    const { runId, open, memo, startTime, pendingWorkflowTask, historyLength } = described;
    const task = snapshotFromMemo(taskId, runId, memo, startTime);
    if (!task) return undefined;
    if (pendingWorkflowTask === 'started') task.started = true;
    if (!open) {
      const closed = await this.withTail(task);
      this.closed.set(taskId, closed);
      return closed;
    }
    if (pendingWorkflowTask === 'none') return task;
    // Queued and untouched: nothing written since the start but its first workflow task, and
    // with no worker holding that task no signal can be held back unwritten either.
    if (pendingWorkflowTask === 'scheduled' && historyLength <= START_EVENT_COUNT) return task;
    // Signals Temporal accepted that the workflow has not applied yet. This deployment's own
    // decisions are in the ledger, written by now or still held back by a worker; without a
    // decision at least as new as the memo, read them from the history.
    const decision = await recent();
    if (decision?.runId !== runId || decision.control.version < task.control.version) {
      // A worker holds the first workflow task and nothing else was written (a signal before
      // it started would come before its started event): there is nothing to fold, and what
      // Temporal holds back meanwhile is not in the history either.
      const onlyStarted =
        pendingWorkflowTask === 'started' && historyLength <= START_EVENT_COUNT + 1;
      return onlyStarted ? task : this.withTail(task);
    }
    if (decision.control.version > task.control.version) {
      task.control = decision.control;
      task.updatedAt = new Date(decision.decidedAt);
    }
    // Approvals count their own changes: a decision on one is newer than the memo when its
    // record is.
    if (decision.approvals && decision.approvals.version > (task.approvals?.version ?? 0)) {
      task.approvals = decision.approvals;
      task.updatedAt = new Date(decision.decidedAt);
    }
    return task;
  }

  /** The task with the events after the workflow's last completed task folded on top. */
  private async withTail(task: TaskSnapshot): Promise<TaskSnapshot> {
    const { taskId, runId } = task;
    const tail = await this.workflows.readBackwards(taskId, runId, reachesBackToCompletedTask);
    const fold = new TaskHistoryFold(taskId, runId, task);
    for (const event of afterLastCompletedTask(tail)) fold.apply(event);
    return fold.snapshot!;
  }
}
