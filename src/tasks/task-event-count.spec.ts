/**
 * The workflow's count of its task events (TaskEventCount) against the API's fold of the same
 * history: for every record, the count the workflow wrote is the number of task events the
 * fold emitted up to and including it. The workflow is played by its rules (PlayedWorkflow);
 * the real one is checked the same way in the time-skipping spec and the e2e.
 */
import { PlayedWorkflow, cancel, decision, pause, resume } from '../testing/played-workflow';
import { countsAtRecords, expectCountsOfTheFold } from '../testing/task-event-counts';

/** Every record's count is the fold's; returns how many records there were. */
const expectExactCounts = (workflow: PlayedWorkflow): number =>
  expectCountsOfTheFold(workflow.history.events);

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
      // Start, pause, resume; the records made handling them pass no checkpoint.
      { eventId: 7, written: undefined, folded: 3 },
      { eventId: 8, written: undefined, folded: 3 },
      { eventId: 9, written: 4, folded: 4 },
      { eventId: 14, written: undefined, folded: 5 },
      { eventId: 15, written: 6, folded: 6 },
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
