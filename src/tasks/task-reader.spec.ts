import type { Principal } from '../auth/principal';
import {
  CANCEL_SIGNAL,
  PAUSE_SIGNAL,
  RESUME_SIGNAL,
  initialControlState,
} from '../workflows/contract';
import { MemoryDecisionLedger } from './decision-ledger';
import { TaskNotFoundError } from './errors';
import { TaskReader } from './task-reader';
import { FakeHistory, fakeGateway } from '../testing/fake-history';

const TASK_ID = 'task_00000000-0000-4000-8000-000000000001';
const acme: Principal = { tenantId: 'acme', userId: 'u', keyName: 'k', scopes: ['tasks:read'] };
const globex: Principal = { ...acme, tenantId: 'globex' };
const pause = { reason: 'r', requested_by: 'alice', requested_at: '2026-01-01T00:00:00.000Z' };
const resume = { reason: '', requested_by: 'bob', requested_at: '2026-01-01T00:01:00.000Z' };
const progress = {
  checkpoint: 'pre_step_1',
  steps_done: 0,
  steps_total: 3,
  waiting: false,
  cancelled: false,
};
const paused = {
  ...initialControlState(),
  is_paused: true,
  paused_at: pause.requested_at,
  pause_reason: 'r',
  paused_by: 'alice',
  version: 1,
};

/** A task a worker has run for a while: `n` completed workflow tasks, then `last` recorded. */
function longRunning(n: number): FakeHistory {
  const history = new FakeHistory();
  for (let i = 0; i < n; i++) {
    history.workflowTask({
      control: initialControlState(),
      progress,
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
    history.add({ activityTaskScheduledEventAttributes: {} });
    history.add({ workflowTaskScheduledEventAttributes: {} });
  }
  history.workflowTask({
    control: initialControlState(),
    progress,
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  return history;
}

describe('TaskReader', () => {
  it('answers from one describe call when no workflow task is outstanding, however long the history', async () => {
    const history = longRunning(1000);
    const temporal = fakeGateway(history);
    const reader = new TaskReader(temporal.gateway, new MemoryDecisionLedger());

    const task = await reader.current(acme, TASK_ID);

    expect(temporal.calls).toEqual(['describe']);
    expect(task).toMatchObject({ started: true, progress, control: initialControlState() });
    expect(task.updatedAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('folds the signals written after the last completed workflow task, reading back only to it', async () => {
    const history = longRunning(1000);
    history.signal(PAUSE_SIGNAL, pause);
    history.add({ workflowTaskScheduledEventAttributes: {} });
    history.pending = 'scheduled';
    const temporal = fakeGateway(history);
    const reader = new TaskReader(temporal.gateway, new MemoryDecisionLedger());

    const task = await reader.current(acme, TASK_ID);

    expect(temporal.calls).toEqual(['describe', 'readBackwards run-1']);
    expect(temporal.eventsRead).toBe(32); // one page of the ~4,000 events
    expect(task.control).toEqual(paused);
    expect(task.updatedAt.toISOString()).toBe(pause.requested_at);
  });

  it('answers from the decision ledger without reading history when it is at least as new as the memo', async () => {
    const history = longRunning(1000);
    history.signal(PAUSE_SIGNAL, pause);
    history.add({ workflowTaskScheduledEventAttributes: {} });
    history.pending = 'scheduled';
    const ledger = new MemoryDecisionLedger();
    ledger.record(TASK_ID, { runId: 'run-1', control: paused, decidedAt: pause.requested_at });
    const temporal = fakeGateway(history);

    const task = await new TaskReader(temporal.gateway, ledger).current(acme, TASK_ID);

    expect(temporal.calls).toEqual(['describe']);
    expect(task.control).toEqual(paused);
  });

  it('answers a queued task that nothing has touched since its start from one describe call', async () => {
    const history = new FakeHistory();
    const temporal = fakeGateway(history);
    const reader = new TaskReader(temporal.gateway, new MemoryDecisionLedger());

    const task = await reader.current(acme, TASK_ID);

    expect(temporal.calls).toEqual(['describe']);
    expect(task).toMatchObject({ started: false, control: initialControlState() });
    // Read back and folded instead (as once one more event is written), it is the same task.
    history.add({ workflowTaskScheduledEventAttributes: {} });
    expect(await reader.current(acme, TASK_ID)).toEqual(task);
    expect(temporal.calls).toEqual(['describe', 'describe', 'readBackwards run-1']);
  });

  it('answers a task whose first workflow task a worker holds from one describe call', async () => {
    const history = new FakeHistory();
    history.add({ workflowTaskStartedEventAttributes: {} });
    history.pending = 'started';
    const temporal = fakeGateway(history);
    const reader = new TaskReader(temporal.gateway, new MemoryDecisionLedger());

    const task = await reader.current(acme, TASK_ID);

    expect(temporal.calls).toEqual(['describe']);
    expect(task).toMatchObject({ started: true, control: initialControlState() });
  });

  it('reads the history of a task signalled before its first workflow task started', async () => {
    const history = new FakeHistory().signal(PAUSE_SIGNAL, pause);
    history.add({ workflowTaskStartedEventAttributes: {} });
    history.pending = 'started';
    const temporal = fakeGateway(history);

    const task = await new TaskReader(temporal.gateway, new MemoryDecisionLedger()).current(
      acme,
      TASK_ID,
    );

    expect(temporal.calls).toEqual(['describe', 'readBackwards run-1']);
    expect(task).toMatchObject({ started: true, control: paused });
  });

  it('reads the history of a queued task once a signal has reached it', async () => {
    const history = new FakeHistory().signal(PAUSE_SIGNAL, pause);
    const temporal = fakeGateway(history);

    const task = await new TaskReader(temporal.gateway, new MemoryDecisionLedger()).current(
      acme,
      TASK_ID,
    );

    expect(temporal.calls).toEqual(['describe', 'readBackwards run-1']);
    expect(task.control).toEqual(paused);
  });

  it('reads back to the start of a task no worker has run, folding every signal since', async () => {
    const history = new FakeHistory();
    history.signal(PAUSE_SIGNAL, pause).signal(RESUME_SIGNAL, resume).signal(PAUSE_SIGNAL, pause);
    const temporal = fakeGateway(history);

    const task = await new TaskReader(temporal.gateway, new MemoryDecisionLedger()).current(
      acme,
      TASK_ID,
    );

    expect(task.started).toBe(false);
    expect(task.control).toEqual({ ...paused, version: 3 });
  });

  it('takes a decision this deployment made while a worker holds the task, until Temporal shows a newer state', async () => {
    const history = longRunning(3);
    history.add({ workflowTaskScheduledEventAttributes: {} });
    history.add({ workflowTaskStartedEventAttributes: {} });
    history.pending = 'started';
    const ledger = new MemoryDecisionLedger();
    const reader = new TaskReader(fakeGateway(history).gateway, ledger);

    // The pause signal is buffered: nothing in history or memo shows it yet.
    ledger.record(TASK_ID, { runId: 'run-1', control: paused, decidedAt: pause.requested_at });
    expect((await reader.current(acme, TASK_ID)).control).toEqual(paused);

    // Another run (a reset) does not inherit the decision.
    history.runId = 'run-2';
    expect((await reader.current(acme, TASK_ID)).control).toEqual(initialControlState());
    history.runId = 'run-1';

    // Once the workflow has taken the pause and a resume, Temporal's newer state wins.
    const resumed = { ...initialControlState(), version: 2 };
    history.workflowTask({ control: resumed, progress, updatedAt: resume.requested_at });
    history.add({ workflowTaskScheduledEventAttributes: {} });
    history.add({ workflowTaskStartedEventAttributes: {} });
    history.pending = 'started';
    expect((await reader.current(acme, TASK_ID)).control).toEqual(resumed);
  });

  it('reads a closed task once, then answers it from one describe call', async () => {
    const history = longRunning(2).signal(CANCEL_SIGNAL, pause).completed('the answer');
    const temporal = fakeGateway(history);
    const reader = new TaskReader(temporal.gateway, new MemoryDecisionLedger());

    const first = await reader.current(acme, TASK_ID);
    const second = await reader.current(acme, TASK_ID);

    expect(temporal.calls).toEqual(['describe', 'readBackwards run-1', 'describe']);
    expect(second).toBe(first);
    expect(first).toMatchObject({ terminal: 'COMPLETED', result: 'the answer' });
    expect(first.closedAt?.toISOString()).toBe(
      FakeHistory.time(history.events.length).toISOString(),
    );
  });

  it("answers not found for another tenant's task, kept or not, and for a foreign workflow", async () => {
    const history = new FakeHistory().workflowTask().completed('done');
    const reader = new TaskReader(fakeGateway(history).gateway, new MemoryDecisionLedger());

    await expect(reader.current(globex, TASK_ID)).rejects.toBeInstanceOf(TaskNotFoundError);
    await reader.current(acme, TASK_ID);
    await expect(reader.current(globex, TASK_ID)).rejects.toBeInstanceOf(TaskNotFoundError);

    history.memo = {};
    history.runId = 'run-2';
    await expect(reader.current(acme, TASK_ID)).rejects.toBeInstanceOf(TaskNotFoundError);
  });
});
