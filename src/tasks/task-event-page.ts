import { defaultPayloadConverter } from '@temporalio/common';
import type { HistoryEvent, TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import { MEMO_TASK_EVENTS, toTaskEventCount } from '../workflows/contract';
import type { TaskEvent } from './task-event';
import { TaskHistoryFold, type TaskSnapshot, recordedState } from './task-history';

/**
 * How many history events one task event takes at most, roughly (a step: its schedule, start,
 * completion, a workflow task and two records): sizes the first page of a read from the end.
 */
const HISTORY_EVENTS_PER_TASK_EVENT = 8;
const MIN_PAGE = 32;
const MAX_PAGE = 256;

/** The count of task events a record wrote (decoding only that field), if any. */
function writtenCount(event: HistoryEvent): number | undefined {
  const payload =
    event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[MEMO_TASK_EVENTS];
  return payload ? toTaskEventCount(defaultPayloadConverter.fromPayload(payload)) : undefined;
}

/**
 * Finds, in a history read backwards from its end, the latest record that counted its task
 * events and counted no more than `offset`: every task event from index `offset` on comes after
 * it. Each event is looked at once, however many pages the read takes.
 */
class AnchorSearch {
  /** Events at the end of the read already looked at. */
  private seen = 0;
  anchor?: { event: HistoryEvent; count: number };

  constructor(private readonly offset: number) {}

  /** Looks at the events read since the last call (the oldest ones); true once found. */
  search(events: readonly HistoryEvent[]): boolean {
    for (let i = events.length - this.seen - 1; i >= 0 && !this.anchor; i--) {
      const count = writtenCount(events[i]);
      if (count !== undefined && count <= this.offset && recordedState(events[i])) {
        this.anchor = { event: events[i], count };
      }
    }
    this.seen = events.length;
    return this.anchor !== undefined;
  }
}

/**
 * Whether events `offset` to `offset + limit` of a task with `counted` events as of its last
 * record are nearer its end than its start: a read from the start reaches up to the last of
 * them, one from the end back to (about) the first.
 */
export function nearerTheEnd(counted: number | undefined, offset: number, limit: number): boolean {
  return counted !== undefined && counted - offset < offset + limit;
}

/**
 * Up to `limit` of the task's events from index `offset` on, oldest first, read backwards from
 * the end of its history to the latest record that counted at most `offset` task events, and
 * folded forward from there, numbered from its count (from the first event when no such record
 * exists: a task that never counted, or an offset before the first count). The same events, with
 * the same bodies, as folding the history from its start; the cost is the history after that
 * record, whatever came before it.
 */
export async function eventsFromTheEnd(
  workflows: TaskWorkflowGateway,
  task: TaskSnapshot,
  offset: number,
  limit: number,
): Promise<TaskEvent[]> {
  const { taskId, runId } = task;
  const search = new AnchorSearch(offset);
  const back = Math.max(0, (task.taskEvents ?? 0) - offset) * HISTORY_EVENTS_PER_TASK_EVENT;
  const read = await workflows.readBackwards(
    taskId,
    runId,
    (events) => search.search(events) || Number(events[0]?.eventId) === 1,
    Math.min(MAX_PAGE, Math.max(MIN_PAGE, back + MIN_PAGE / 2)),
  );
  // A read that ended at the first event was never asked whether it had read enough.
  search.search(read);
  const { anchor } = search;
  let fold: TaskHistoryFold;
  let index: number;
  let rest: readonly HistoryEvent[];
  if (anchor) {
    fold = TaskHistoryFold.after(anchor.event, task);
    index = anchor.count;
    rest = read.slice(Number(anchor.event.eventId) - Number(read[0].eventId) + 1);
  } else {
    fold = new TaskHistoryFold(taskId, runId);
    index = 0;
    rest = read;
  }
  const events: TaskEvent[] = [];
  for (const event of rest) {
    const taskEvent = fold.apply(event);
    if (!taskEvent) continue;
    if (index++ >= offset) events.push(taskEvent);
    if (events.length >= limit) break;
  }
  return events;
}
