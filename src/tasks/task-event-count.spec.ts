/**
 * The workflow's count of its task events (TaskEventCount) against the API's fold of the same
 * history: for every record, the count the workflow wrote is the number of task events the
 * fold emitted up to and including it. The workflow is played by its rules (PlayedWorkflow);
 * the real one is checked the same way in the time-skipping spec and the e2e.
 */
import { defaultPayloadConverter, mapFromPayloads } from '@temporalio/common';
import { PlayedWorkflow, cancel, decision, pause, resume } from '../testing/played-workflow';
import { MEMO_TASK_EVENTS } from '../workflows/contract';
import type { HistoryEvent } from '../temporal/task-workflow.gateway';
import { TaskHistoryFold } from './task-history';

/** Each record's written count beside the fold's count of task events up to it. */
function countsAtRecords(
  events: readonly HistoryEvent[],
): { eventId: number; written: unknown; folded: number }[] {
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

/** Every record's count is the fold's; returns how many records there were. */
function expectExactCounts(workflow: PlayedWorkflow): number {
  const counts = countsAtRecords(workflow.history.events);
  expect(counts.map(({ eventId, written }) => ({ eventId, written }))).toEqual(
    counts.map(({ eventId, folded }) => ({ eventId, written: folded })),
  );
  return counts.length;
}

describe('TaskEventCount, as the task workflow keeps it, against the fold', () => {
  it('counts a pause taking effect and its resume, each in a workflow task of its own', () => {
    const wf = new PlayedWorkflow();
    wf.activation([], () => wf.checkpoint('pre_planning'));
    wf.activation([], () => wf.checkpoint('pre_step_1'));
    wf.activation([pause()]);
    wf.activation([], () => {
      wf.stepDone();
      wf.checkpoint('pre_step_2');
      wf.wait();
    });
    wf.activation([resume], () => wf.goOn());
    wf.activation([], () => wf.stepDone());
    expect(expectExactCounts(wf)).toBe(9);
  });

  it('counts signals handled together: each record comes after all of them in history', () => {
    const wf = new PlayedWorkflow();
    // Before the first workflow task: a pause withdrawn, a pause again, a second pause (no
    // change), then the workflow's first checkpoint in the same task.
    wf.activation([pause(), resume, pause(), pause()], () => wf.checkpoint('pre_planning'));
    wf.activation([resume, pause(), resume], () => wf.checkpoint('pre_step_1'));
    wf.activation([pause(), cancel, resume, cancel], () => wf.cancelled());
    expect(expectExactCounts(wf)).toBe(11);
  });

  it('leaves the records made in a signal handler without a count when nothing concludes them', () => {
    const wf = new PlayedWorkflow();
    wf.intercepted = false;
    wf.activation([pause(), resume], () => wf.checkpoint('pre_planning'));
    wf.activation([pause()], () => wf.wait());
    expect(countsAtRecords(wf.history.events)).toEqual([
      { eventId: 7, written: undefined, folded: 4 },
      { eventId: 8, written: undefined, folded: 4 },
      { eventId: 9, written: 5, folded: 5 },
      { eventId: 14, written: undefined, folded: 6 },
      { eventId: 15, written: 7, folded: 7 },
    ]);
  });

  it.each(['resume', 'cancel', 'fail'] as const)(
    'counts a pause deadline with %s, also when signals come in its workflow task',
    (policy) => {
      const wf = new PlayedWorkflow();
      wf.activation([], () => wf.checkpoint('pre_planning'));
      wf.activation([pause({ timeout_seconds: 5, on_timeout: policy })], () => wf.wait());
      // The deadline fires in a workflow task with a pause of no effect and a cancel that
      // comes after it in the handler order but before the deadline's record in history.
      wf.activation([pause()], () => {
        wf.deadline();
        if (policy === 'resume') wf.goOn();
      });
      wf.activation([pause({ timeout_seconds: 5, on_timeout: policy }), resume], () =>
        wf.deadline(),
      );
      wf.activation([cancel], () => wf.cancelled());
      expectExactCounts(wf);
    },
  );

  it('counts approvals requested, approved, rejected, expired either way, and decisions of no effect', () => {
    const wf = new PlayedWorkflow(true);
    wf.activation([], () => {
      wf.checkpoint('pre_planning');
      wf.askApproval('pre_planning');
    });
    // Two decisions in one workflow task: the first wins, the second changes nothing.
    wf.activation([decision('pre_planning', true), decision('pre_planning', false)], () =>
      wf.checkpoint('pre_step_1'),
    );
    wf.activation([decision('elsewhere', true)], () => wf.askApproval('pre_step_1'));
    wf.activation([pause()], () => wf.expireApproval('approve'));
    wf.activation([resume], () => {
      wf.checkpoint('pre_step_2');
      wf.askApproval('pre_step_2');
    });
    wf.activation([], () => wf.expireApproval('reject'));
    wf.activation([decision('pre_step_2', true)], () => wf.cancelled());
    expectExactCounts(wf);
  });

  it('counts a rejection, which cancels, and a pause with it in one workflow task', () => {
    const wf = new PlayedWorkflow(true);
    wf.activation([], () => {
      wf.checkpoint('pre_planning');
      wf.askApproval('pre_planning');
    });
    wf.activation([pause(), decision('pre_planning', false), resume, cancel], () => wf.cancelled());
    expect(expectExactCounts(wf)).toBe(5);
  });
});
