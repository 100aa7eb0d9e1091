import {
  type ApprovalsRecord,
  expireApproval,
  initialApprovals,
  requestApproval,
} from './approval-contract';
import {
  CANCEL_SIGNAL,
  MEMO_APPROVALS,
  MEMO_CONTROL,
  MEMO_PROGRESS,
  PAUSE_SIGNAL,
  type ControlRecord,
  type TaskProgress,
  applyControlSignal,
  applyPauseTimeout,
  initialControlState,
} from './contract';
import { type RecordKnowledge, readRecord } from './recorded-change';

const at = new Date('2026-01-02T03:04:05.000Z');
const progress = (change: Partial<TaskProgress> = {}): TaskProgress => ({
  checkpoint: 'pre_step_1',
  steps_done: 0,
  steps_total: 2,
  waiting: false,
  cancelled: false,
  ...change,
});
const memo = (control: ControlRecord, p: TaskProgress, approvals?: ApprovalsRecord) => ({
  [MEMO_CONTROL]: control,
  [MEMO_PROGRESS]: p,
  updated_at: at.toISOString(),
  ...(approvals && { [MEMO_APPROVALS]: approvals }),
});
const paused = applyControlSignal(
  initialControlState(),
  PAUSE_SIGNAL,
  { reason: '', requested_by: 'alice', timeout_seconds: 60, on_timeout: 'resume' },
  at,
);
const pausedWith = (policy: 'resume' | 'cancel' | 'fail') => ({
  ...paused,
  on_timeout: policy,
});
const requested = requestApproval(initialApprovals(), 'apr_1', 'pre_step_1', at);

describe('readRecord', () => {
  const known: RecordKnowledge = { controlVersion: 0, progress: progress() };

  it('takes a checkpoint passed as one step of progress', () => {
    const next = progress({ checkpoint: 'pre_step_2', steps_done: 1 });
    expect(
      readRecord(
        { ...known, progress: progress({ steps_done: 1 }) },
        memo(initialControlState(), next),
      ),
    ).toEqual({
      known: { controlVersion: 0, progress: next },
      event: { kind: 'checkpoint', progress: next },
    });
  });

  it('takes a step done as one step of progress, before a checkpoint moved with it', () => {
    const next = progress({ checkpoint: 'pre_step_2', steps_done: 1 });
    expect(readRecord(known, memo(initialControlState(), next))).toEqual({
      known: { controlVersion: 0, progress: next },
      event: { kind: 'step_done', progress: next },
    });
  });

  it('takes a wait that began as the pause taking effect', () => {
    const next = progress({ waiting: true });
    expect(readRecord({ ...known, controlVersion: 1 }, memo(paused, next))).toEqual({
      known: { controlVersion: 1, progress: next },
      event: { kind: 'paused', progress: next },
    });
  });

  it('takes nothing from a record of the same progress, nor from one with a signal folded before', () => {
    expect(readRecord({ ...known, controlVersion: 1 }, memo(paused, progress()))).toEqual({
      known: { controlVersion: 1, progress: progress() },
    });
  });

  it('takes nothing from the records of a cancelled task, but keeps their progress', () => {
    const next = progress({ checkpoint: 'pre_step_2', steps_done: 1, cancelled: true });
    expect(readRecord(known, memo(initialControlState(), next))).toEqual({
      known: { controlVersion: 0, progress: next },
    });
  });

  it('takes nothing from a record without progress (tasks from before whole-state records)', () => {
    expect(readRecord(known, { [MEMO_CONTROL]: paused })).toEqual({
      known: { ...known, controlVersion: 1 },
    });
  });

  it.each(['resume', 'cancel'] as const)(
    'takes a pause deadline with %s as the workflow’s own event, and its progress as unchanged',
    (policy) => {
      const timedOut = applyPauseTimeout(pausedWith(policy));
      const next = progress({ waiting: true, checkpoint: 'pre_step_9' });
      expect(readRecord({ ...known, controlVersion: 1 }, memo(timedOut, next))).toEqual({
        known: { ...known, controlVersion: 2 },
        event: { kind: 'deadline', policy },
        timedOut,
      });
    },
  );

  it('tells a pause deadline with fail, which stands for no event (WORKFLOW_FAILED tells it)', () => {
    const timedOut = applyPauseTimeout(pausedWith('fail'));
    expect(readRecord({ ...known, controlVersion: 1 }, memo(timedOut, progress()))).toEqual({
      known: { ...known, controlVersion: 2 },
      timedOut,
    });
  });

  it('takes a deadline’s mark on a record of an older version as nothing', () => {
    const timedOut = applyPauseTimeout(pausedWith('resume'));
    expect(readRecord({ ...known, controlVersion: 2 }, memo(timedOut, progress()))).toEqual({
      known: { ...known, controlVersion: 2 },
    });
  });

  it('takes a new pending approval as a request', () => {
    expect(readRecord(known, memo(initialControlState(), progress(), requested))).toEqual({
      known: { ...known, approvals: requested },
      event: { kind: 'approval_requested', pending: requested.pending },
    });
  });

  it('takes the request the task waited for, now expired, as the expiry', () => {
    const expired = expireApproval(requested, 'apr_1', at);
    expect(
      readRecord(
        { ...known, approvals: requested },
        memo(initialControlState(), progress(), expired),
      ),
    ).toEqual({
      known: { ...known, approvals: expired },
      event: { kind: 'approval_expired', approval: expired.approvals[0] },
    });
  });

  it('takes approvals no newer than known (a decision folded from its signal) as nothing', () => {
    expect(
      readRecord(
        { ...known, approvals: requested },
        memo(initialControlState(), progress(), requested),
      ),
    ).toEqual({ known: { ...known, approvals: requested } });
  });

  it('takes newer approvals that neither request nor expire as nothing, reading on to progress', () => {
    const decided = { ...requested, version: 2, pending: null };
    const next = progress({ checkpoint: 'pre_step_2' });
    expect(
      readRecord({ ...known, approvals: requested }, memo(initialControlState(), next, decided)),
    ).toEqual({
      known: { ...known, approvals: decided, progress: next },
      event: { kind: 'checkpoint', progress: next },
    });
  });

  it('takes a newer control record without a deadline’s mark as known, reading on', () => {
    const cancelled = applyControlSignal(
      paused,
      CANCEL_SIGNAL,
      { reason: '', requested_by: 'a' },
      at,
    );
    const next = progress({ waiting: true });
    expect(readRecord(known, memo(cancelled, next))).toEqual({
      known: { controlVersion: 2, progress: next },
      event: { kind: 'paused', progress: next },
    });
  });
});
