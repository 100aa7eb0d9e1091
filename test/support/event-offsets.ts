import { readTaskHistory } from '../../src/tasks/task-history';
import { expectCountsOfTheFold } from '../../src/testing/task-event-counts';
import type { ApiClient } from './api';
import type { TemporalObserver } from './temporal';

/**
 * What `GET /events?offset=` relies on, checked on a closed task against its whole history as
 * Temporal holds it: every record the workflow made counts the task events up to it as a fold of
 * the history from its first event does, and the events from every offset (a few at a time, so
 * both the read from the start and the one from the end answer) are the slice of the fold's list,
 * whole bodies. Returns how many events the task has.
 */
export async function expectEventsAtEveryOffset(
  api: ApiClient,
  temporal: TemporalObserver,
  taskId: string,
): Promise<number> {
  const history = await temporal.history(taskId);
  expect(expectCountsOfTheFold(history)).toBeGreaterThan(0);
  const { runId } = await temporal.client.workflow.getHandle(taskId).describe();
  const all = readTaskHistory(taskId, runId, history)!.events;
  for (let offset = 0; offset <= all.length + 1; offset++) {
    const page = await api.request(
      'GET',
      `/api/v1/tasks/${taskId}/events?offset=${offset}&limit=3`,
    );
    const events = all.slice(offset, offset + 3);
    expect([offset, page.status, page.body]).toEqual([
      offset,
      200,
      { events, count: events.length },
    ]);
  }
  return all.length;
}
