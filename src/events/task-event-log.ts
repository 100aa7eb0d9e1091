import { Injectable } from '@nestjs/common';
import type { TaskEvent } from '../tasks/task-event';
import { TaskHistoryFold, type TaskSnapshot, recordedState } from '../tasks/task-history';
import {
  TaskWorkflowGateway,
  type HistoryEvent,
  type PendingActivity,
} from '../temporal/task-workflow.gateway';
import { STEP_ACTIVITY_TYPE } from '../workflows/contract';

/** Where a reader of a task's events stands: the last history event folded, and the fold. */
export interface EventCursor {
  readonly taskId: string;
  readonly runId: string;
  /** ID of the last history event folded. */
  position: number;
  fold: TaskHistoryFold;
  /** The close event has been folded: nothing follows. */
  closed: boolean;
}

/**
 * A history long poll can only start from the run's first event: it reads again every event the
 * cursor has folded before it waits for new ones. A run is followed that way only while this
 * re-read stays small (four pages); a longer one is followed by tail reads, whose cost does not
 * depend on what came before.
 */
export const LONG_POLL_MAX_REREAD = 1024;

/** Reverse reads fetch what is needed in one call when they can: this many events at most. */
const MAX_PAGE = 256;
const pageFor = (events: number): number => Math.min(MAX_PAGE, Math.max(8, events + 8));
/**
 * What a change notice usually announces: one workflow task's events (its completion, a memo
 * record, an activity scheduled or completed, the next task scheduled and started).
 */
const NOTICED_EVENTS = 8;

/**
 * Index of the event a fold can start right after to produce every task event after `after`:
 * the latest one at or before `after` that recorded the task's whole state.
 */
function anchorIndex(events: readonly HistoryEvent[], after: number): number {
  for (let i = events.length - 1; i >= 0; i--) {
    if (Number(events[i].eventId) <= after && recordedState(events[i])) return i;
  }
  return -1;
}

const startsAtFirstEvent = (events: readonly HistoryEvent[]): boolean =>
  Number(events[0]?.eventId) === 1;

/**
 * A task's events as the stream and the replay need them, read from Temporal at a cost that
 * follows what is returned, not the length of the history before it: history is read backwards
 * from its end to the point asked for (plus the few events back to a recorded state, where the
 * fold can start), and new events are read the same way from where a reader stands.
 */
@Injectable()
export class TaskEventLog {
  constructor(private readonly workflows: TaskWorkflowGateway) {}

  /**
   * The task's events after event `after` up to now, oldest first, and a cursor standing at
   * the end of what was read. `task` (as TaskReader reads it) names the run and its start.
   */
  async replay(
    task: TaskSnapshot,
    after: number,
  ): Promise<{ events: TaskEvent[]; cursor: EventCursor }> {
    const { taskId, runId } = task;
    const read = await this.workflows.readBackwards(
      taskId,
      runId,
      (events) => anchorIndex(events, after) >= 0 || startsAtFirstEvent(events),
    );
    const anchor = anchorIndex(read, after);
    const fold =
      anchor >= 0 ? TaskHistoryFold.after(read[anchor], task) : new TaskHistoryFold(taskId, runId);
    const position = anchor >= 0 ? Number(read[anchor].eventId) : 0;
    const cursor: EventCursor = { taskId, runId, position, fold, closed: false };
    return { events: this.fold(cursor, read, after), cursor };
  }

  /**
   * The events written since the cursor, oldest first; none when nothing changed. One describe
   * call when nothing changed, then one read of exactly the new events. When something is
   * known to have changed (a change notice), the describe is left out: the read backwards
   * alone finds the new events, and costs about what the describe would when it finds none
   * (a notice may come a moment before Temporal wrote what it announces).
   */
  async advance(cursor: EventCursor, changed = false): Promise<TaskEvent[]> {
    let expected = NOTICED_EVENTS;
    if (!changed) {
      const { historyLength } = await this.workflows.describe(cursor.taskId, cursor.runId);
      if (historyLength <= cursor.position) return [];
      expected = historyLength - cursor.position;
    }
    const position = cursor.position;
    const read = await this.workflows.readBackwards(
      cursor.taskId,
      cursor.runId,
      (events) => Number(events[0]?.eventId) <= position + 1,
      pageFor(expected),
    );
    return this.fold(cursor, read);
  }

  /**
   * Follows the run with history long polls: each round ends when Temporal has new events
   * (or after about 20 s idle) and yields the task events among them. Temporal can only page
   * a history forward from its first event, so the first rounds page through what the cursor
   * has folded already (one-off, without waiting) before the long polls begin: see
   * LONG_POLL_MAX_REREAD.
   */
  async *longPoll(cursor: EventCursor, signal: AbortSignal): AsyncGenerator<TaskEvent[]> {
    let token: Uint8Array | undefined;
    while (!cursor.closed) {
      const page = await this.workflows.historyPage(cursor.taskId, cursor.runId, token, signal);
      if (!page) return;
      yield this.fold(cursor, page.events);
      token = page.nextPageToken;
      if (!token) cursor.closed = true;
    }
  }

  /** The run's step activities that have not ended, with their last heartbeats: one describe. */
  async pendingSteps(cursor: EventCursor): Promise<PendingActivity[]> {
    const pending = await this.workflows.pendingActivities(cursor.taskId, cursor.runId);
    return pending.filter((a) => a.activityType === STEP_ACTIVITY_TYPE);
  }

  /** Folds the events after the cursor's position; returns the task events after `emitAfter`. */
  private fold(cursor: EventCursor, events: readonly HistoryEvent[], emitAfter = 0): TaskEvent[] {
    const out: TaskEvent[] = [];
    for (const event of events) {
      const id = Number(event.eventId);
      if (id <= cursor.position) continue; // folded already
      const taskEvent = cursor.fold.apply(event);
      cursor.position = id;
      if (taskEvent && taskEvent.seq > emitAfter) out.push(taskEvent);
    }
    cursor.closed ||= cursor.fold.snapshot?.terminal !== undefined;
    return out;
  }
}
