import { defaultPayloadConverter, mapFromPayloads } from '@temporalio/common';
import { TaskHistoryFold } from '../tasks/task-history';
import type { HistoryEvent } from '../temporal/task-workflow.gateway';
import { MEMO_TASK_EVENTS } from '../workflows/contract';

/** A record of the workflow: its event ID, the count it wrote, the fold's count up to it. */
export interface CountAtRecord {
  eventId: number;
  written: unknown;
  folded: number;
}

/**
 * Each memo record of a task's history (a whole history, from its first event) with the count
 * of task events it wrote (MEMO_TASK_EVENTS) beside the number of task events a fold of the
 * history emitted up to and including it.
 */
export function countsAtRecords(events: readonly HistoryEvent[]): CountAtRecord[] {
  const fold = new TaskHistoryFold('task', 'run-1');
  let folded = 0;
  return events.flatMap((event) => {
    if (fold.apply(event)) folded++;
    const fields = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields;
    if (!fields) return [];
    const written = mapFromPayloads(defaultPayloadConverter, fields)?.[MEMO_TASK_EVENTS];
    return [{ eventId: Number(event.eventId), written, folded }];
  });
}

/**
 * Every record's written count is the fold's, listed by event ID so a failure names the
 * record. Returns how many records there were.
 */
export function expectCountsOfTheFold(events: readonly HistoryEvent[]): number {
  const counts = countsAtRecords(events);
  expect(counts.map(({ eventId, written }) => ({ eventId, written }))).toEqual(
    counts.map(({ eventId, folded }) => ({ eventId, written: folded })),
  );
  return counts.length;
}
