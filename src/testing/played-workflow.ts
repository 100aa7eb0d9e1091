/**
 * The task workflow played by its rules, for unit specs: the contract's pure functions, called
 * in the order task.workflow.ts, ControlGate and ApprovalGate call them, with the workflow's
 * count of its task events; and the history Temporal writes for it: a workflow task's signals
 * first, then its started and completed events, then its commands (the memo upserts).
 */
import { defaultPayloadConverter, mapToPayloads } from '@temporalio/common';
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
import { FakeHistory } from './fake-history';

const at = new Date('2026-01-02T03:04:05.000Z');
const request = (extra: object = {}) => ({ reason: 'r', requested_by: 'alice', ...extra });

export type Signal =
  | { name: ControlSignalName; request?: object }
  | { name: typeof APPROVAL_SIGNAL; decision: ApprovalDecisionRequest };

/** The task workflow as its rules make it act, writing its history as Temporal would. */
export class PlayedWorkflow {
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
  private result?: string;

  constructor(private readonly gated = false) {}

  /**
   * One workflow task: `signals` written before it and handled first, in order (the records
   * their handlers make among them), then what the workflow does by itself in `work`.
   */
  activation(signals: Signal[], work: () => void = () => undefined): this {
    this.signalled(signals);
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
    if (this.result !== undefined) this.history.completed(this.result);
    return this;
  }

  /** Signals Temporal wrote, and the workflow task they need, not taken by a worker yet. */
  signalled(signals: Signal[]): this {
    for (const signal of signals) {
      const input = 'decision' in signal ? signal.decision : request(signal.request);
      this.history.add({
        workflowExecutionSignaledEventAttributes: {
          signalName: signal.name,
          input: { payloads: [defaultPayloadConverter.toPayload(input)] },
        },
      });
    }
    const lastTaskEvent = [...this.history.events]
      .reverse()
      .find(
        (e) => e.workflowTaskScheduledEventAttributes || e.workflowTaskCompletedEventAttributes,
      );
    if (!lastTaskEvent?.workflowTaskScheduledEventAttributes) {
      this.history.add({ workflowTaskScheduledEventAttributes: {} });
    }
    return this;
  }

  /** The workflow returns `result` at the end of the current workflow task. */
  complete(result: string): void {
    this.result = result;
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
    const state: Record<string, unknown> = {
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

export const decision = (
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
export const pause = (extra: object = {}): Signal => ({ name: PAUSE_SIGNAL, request: extra });
export const resume: Signal = { name: RESUME_SIGNAL };
export const cancel: Signal = { name: CANCEL_SIGNAL };
