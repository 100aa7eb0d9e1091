/**
 * The workflow's count of its task events (TaskEventCount) against the API's fold of the same
 * history: for every record, the count the workflow wrote is the number of task events the
 * fold emitted up to and including it. The workflow is played here by its rules (the contract's
 * pure functions, in the order task.workflow.ts calls them); Temporal's part by what it writes:
 * a workflow task's signals first, then its started and completed events, then its commands.
 * The real workflow is checked the same way in the time-skipping spec and the e2e.
 */
import { defaultPayloadConverter, mapFromPayloads, mapToPayloads } from '@temporalio/common';
import { FakeHistory } from '../testing/fake-history';
import {
  APPROVAL_SIGNAL,
  type ApprovalDecisionRequest,
  applyApprovalDecision,
  expireApproval,
  initialApprovals,
  rejectedReason,
  requestApproval,
} from '../workflows/approval-contract';
import {
  CANCEL_SIGNAL,
  type ControlSignalName,
  MEMO_APPROVALS,
  MEMO_CONTROL,
  MEMO_PROGRESS,
  MEMO_TASK_EVENTS,
  MEMO_UPDATED_AT,
  PAUSE_SIGNAL,
  RESUME_SIGNAL,
  type TaskProgress,
  applyControlSignal,
  applyPauseTimeout,
  initialControlState,
} from '../workflows/contract';
import { type MemoCommand, TaskEventCount } from '../workflows/task-event-count';
import type { HistoryEvent } from '../temporal/task-workflow.gateway';
import { TaskHistoryFold } from './task-history';

const at = new Date('2026-01-02T03:04:05.000Z');
const request = (extra: object = {}) => ({ reason: 'r', requested_by: 'alice', ...extra });

type Signal =
  | { name: ControlSignalName; request?: object }
  | { name: typeof APPROVAL_SIGNAL; decision: ApprovalDecisionRequest };

/** The task workflow as its rules make it act, writing its history as Temporal would. */
class PlayedWorkflow {
  control = initialControlState();
  approvals = initialApprovals();
  progress: TaskProgress = {
    checkpoint: '',
    steps_done: 0,
    steps_total: 3,
    waiting: false,
    cancelled: false,
  };
  readonly history = new FakeHistory();
  /** Whether the activation's commands are handed to the count, as the interceptor does. */
  intercepted = true;
  private readonly count = new TaskEventCount(() => ({
    control: this.control,
    approvals: this.approvals,
  }));
  private commands: MemoCommand[] = [];

  constructor(private readonly gated = false) {}

  /**
   * One workflow task: `signals` written before it and handled first, in order (the records
   * their handlers make among them), then what the workflow does by itself in `work`.
   */
  activation(signals: Signal[], work: () => void = () => undefined): this {
    for (const signal of signals) {
      const input = 'decision' in signal ? signal.decision : request(signal.request);
      this.history.add({
        workflowExecutionSignaledEventAttributes: {
          signalName: signal.name,
          input: { payloads: [defaultPayloadConverter.toPayload(input)] },
        },
      });
    }
    this.history.add({ workflowTaskStartedEventAttributes: {} });
    this.history.add({ workflowTaskCompletedEventAttributes: {} });
    for (const signal of signals) this.count.duringSignal(() => this.handle(signal));
    work();
    if (this.intercepted) this.count.conclude(this.commands);
    for (const command of this.commands) {
      this.history.add({
        workflowPropertiesModifiedEventAttributes: command.modifyWorkflowProperties,
      });
    }
    this.commands = [];
    this.history.add({ workflowTaskScheduledEventAttributes: {} });
    return this;
  }

  // What the workflow does by itself, as task.workflow.ts, ControlGate and ApprovalGate do it.
  checkpoint(name: string): void {
    this.recordProgress({ checkpoint: name });
  }
  stepDone(): void {
    this.recordProgress({ steps_done: this.progress.steps_done + 1 });
  }
  wait(): void {
    this.recordProgress({ waiting: true });
  }
  goOn(): void {
    this.recordProgress({ waiting: false });
  }
  cancelled(): void {
    this.recordProgress({ cancelled: true });
  }
  deadline(): void {
    const next = applyPauseTimeout(this.control);
    if (next === this.control) return;
    this.control = next;
    this.record();
  }
  askApproval(checkpoint: string): void {
    this.approvals = requestApproval(this.approvals, `apr_${checkpoint}`, checkpoint, at);
    this.record();
  }
  expireApproval(policy: 'approve' | 'reject'): void {
    this.approvals = expireApproval(this.approvals, this.approvals.pending!.approval_id, at);
    if (policy === 'approve' || !this.cancel('approval timed out', 'system')) this.record();
  }

  private handle(signal: Signal): void {
    if (signal.name !== APPROVAL_SIGNAL) {
      const next = applyControlSignal(this.control, signal.name, request(signal.request), at);
      if (next === this.control) return;
      this.control = next;
      this.record();
      return;
    }
    if (!this.gated) return;
    const next = applyApprovalDecision(this.approvals, signal.decision, at);
    if (next === this.approvals) return;
    this.approvals = next;
    const { approved, feedback, requested_by } = signal.decision;
    if (approved || !this.cancel(rejectedReason(feedback), requested_by)) this.record();
  }

  private cancel(reason: string, by: string): boolean {
    const next = applyControlSignal(this.control, CANCEL_SIGNAL, { reason, requested_by: by }, at);
    if (next === this.control) return false;
    this.control = next;
    this.record();
    return true;
  }

  private recordProgress(change: Partial<TaskProgress>): void {
    this.progress = { ...this.progress, ...change };
    this.record();
  }

  private record(): void {
    const state = {
      [MEMO_CONTROL]: this.control,
      [MEMO_PROGRESS]: this.progress,
      [MEMO_UPDATED_AT]: at.toISOString(),
      ...(this.gated && { [MEMO_APPROVALS]: this.approvals }),
    };
    const count = this.count.record(state);
    this.commands.push({
      modifyWorkflowProperties: {
        upsertedMemo: {
          fields: mapToPayloads(defaultPayloadConverter, {
            ...state,
            [MEMO_TASK_EVENTS]: count ?? undefined,
          }),
        },
      },
    });
  }
}

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

const decision = (
  checkpoint: string,
  approved: boolean,
  extra: Partial<ApprovalDecisionRequest> = {},
): Signal => ({
  name: APPROVAL_SIGNAL,
  decision: {
    approval_id: `apr_${checkpoint}`,
    approved,
    feedback: approved ? '' : 'no',
    requested_by: 'bob',
    ...extra,
  },
});
const pause = (extra: object = {}): Signal => ({ name: PAUSE_SIGNAL, request: extra });
const resume: Signal = { name: RESUME_SIGNAL };
const cancel: Signal = { name: CANCEL_SIGNAL };

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
