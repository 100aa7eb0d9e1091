import { TaskEventLog } from '../events/task-event-log';
import { MemoryDecisionLedger } from './decision-ledger';
import {
  TaskHistoryFold,
  effectiveControl,
  readTaskHistory,
  recordedState,
  statusOf,
} from './task-history';
import { TaskReader } from './task-reader';
import { FakeHistory, fakeGateway, recordedHistory } from '../testing/fake-history';
import { taskSnapshot } from '../testing/task-snapshot';
import type { Principal } from '../auth/principal';
import type { HistoryEvent } from '../temporal/task-workflow.gateway';
import type { TaskAction } from './task-action';

const dev: Principal = { tenantId: 'default', userId: 'dev', keyName: 'k', scopes: ['tasks:read'] };

/** The generation of the workflow the pause-deadline histories were recorded with. */
const DEADLINE_HISTORIES = 'v4';

/** Event types, with the checkpoint where one is given, as a stream client would list them. */
const described = (history: readonly HistoryEvent[]) =>
  readTaskHistory('task', 'run-1', history)!.events.map((e) =>
    e.checkpoint === undefined ? e.type : `${e.type}@${e.checkpoint as string}`,
  );

const PAUSE_RESUME = [
  'WORKFLOW_STARTED',
  'PROGRESS@pre_planning',
  'PROGRESS@pre_step_1',
  'workflow.pausing',
  'PROGRESS@pre_step_1',
  'PROGRESS@pre_step_2',
  'workflow.paused@pre_step_2',
  'workflow.resumed@pre_step_2',
  'PROGRESS@pre_step_2',
  'PROGRESS@pre_step_3',
  'PROGRESS@pre_step_3',
  'PROGRESS@pre_synthesis',
  'PROGRESS@pre_completion',
  'WORKFLOW_COMPLETED',
];
const EXPECTED: Record<string, string[]> = {
  'pause-resume-completed': PAUSE_RESUME,
  'cancelled-while-paused': [
    ...PAUSE_RESUME.slice(0, 7),
    'workflow.cancelling',
    'workflow.cancelled@pre_step_2',
  ],
  'failed-at-step': [
    'WORKFLOW_STARTED',
    'PROGRESS@pre_planning',
    'PROGRESS@pre_step_1',
    'PROGRESS@pre_step_1',
    'PROGRESS@pre_step_2',
    'WORKFLOW_FAILED',
  ],
  // A pause withdrawn by a resume before it took effect resumes from no checkpoint.
  'pause-resume-twice': [
    ...PAUSE_RESUME.slice(0, 4),
    'workflow.resumed@',
    'workflow.pausing',
    'PROGRESS@pre_step_1',
    'PROGRESS@pre_step_2',
    'workflow.paused@pre_step_2',
    'workflow.resumed@pre_step_2',
    'PROGRESS@pre_step_2',
    'PROGRESS@pre_step_3',
    'PROGRESS@pre_step_3',
    'PROGRESS@pre_step_4',
    'PROGRESS@pre_step_4',
    'PROGRESS@pre_synthesis',
    'PROGRESS@pre_completion',
    'WORKFLOW_COMPLETED',
  ],
};

/**
 * Whether the history can never end just before `next`: Temporal writes the events a workflow
 * task's commands make in one batch with its completion, and schedules a workflow task in the
 * same batch as the event that needs one.
 */
const midBatch = (next: HistoryEvent | undefined): boolean =>
  !!next &&
  !!(
    next.workflowTaskScheduledEventAttributes ||
    next.workflowPropertiesModifiedEventAttributes ||
    next.upsertWorkflowSearchAttributesEventAttributes ||
    next.activityTaskScheduledEventAttributes ||
    next.startChildWorkflowExecutionInitiatedEventAttributes ||
    next.activityTaskCompletedEventAttributes ||
    next.activityTaskFailedEventAttributes ||
    next.workflowTaskCompletedEventAttributes ||
    next.workflowExecutionCompletedEventAttributes ||
    next.workflowExecutionFailedEventAttributes ||
    next.workflowExecutionCanceledEventAttributes
  );

/** Replaying from any event id gives exactly the events after it, reading back only to a record. */
async function expectExactReplays(events: readonly HistoryEvent[]): Promise<void> {
  const all = readTaskHistory('task', 'run-1', events)!;
  for (let after = 0; after <= events.length; after++) {
    const temporal = fakeGateway(FakeHistory.fromEvents(events));
    const replay = await new TaskEventLog(temporal.gateway).replay(all.task, after);
    expect([after, replay.events]).toEqual([after, all.events.filter((e) => e.seq > after)]);
    expect(replay.cursor).toMatchObject({ position: events.length, closed: true });
    // What follows `after`, and the few events back to the last state the workflow recorded
    // at or before it, in whole pages.
    const anchor = [...events]
      .reverse()
      .find((e) => Number(e.eventId) <= after && recordedState(e) !== undefined);
    const needed = events.length - Number(anchor?.eventId ?? 1) + 1;
    expect([after, temporal.eventsRead]).toEqual([
      after,
      Math.ceil(needed / 32) * 32 > events.length ? events.length : Math.ceil(needed / 32) * 32,
    ]);
  }
}

/**
 * A cursor that stands at any point of the history and advances to its end gets exactly the
 * events after that point: after a describe when nothing says the task changed, by the read
 * backwards alone after a change notice. With nothing new, a notice costs one short read.
 */
async function expectExactAdvances(events: readonly HistoryEvent[]): Promise<void> {
  const all = readTaskHistory('task', 'run-1', events)!;
  for (let end = 2; end < events.length; end++) {
    if (midBatch(events[end])) continue;
    const prefix = events.slice(0, end);
    for (const changed of [false, true]) {
      const log = new TaskEventLog(fakeGateway(FakeHistory.fromEvents(prefix)).gateway);
      const { cursor } = await log.replay(readTaskHistory('task', 'run-1', prefix)!.task, 0);
      const later = fakeGateway(FakeHistory.fromEvents(events));
      const advanced = await new TaskEventLog(later.gateway).advance(cursor, changed);
      expect([end, changed, advanced, later.calls]).toEqual([
        end,
        changed,
        all.events.filter((e) => e.seq > end),
        changed ? ['readBackwards run-1'] : ['describe', 'readBackwards run-1'],
      ]);
      const idle = fakeGateway(FakeHistory.fromEvents(events));
      expect([end, await new TaskEventLog(idle.gateway).advance(cursor, changed)]).toEqual([
        end,
        [],
      ]);
      expect([end, changed, idle.calls, idle.eventsRead]).toEqual(
        changed ? [end, changed, ['readBackwards run-1'], 16] : [end, changed, ['describe'], 0],
      );
    }
  }
}

/** A read at any point of the history (through describe and the tail) equals folding up to it. */
async function expectReadsAtEveryPoint(
  events: readonly HistoryEvent[],
  principal: Principal,
): Promise<void> {
  for (let end = 2; end <= events.length; end++) {
    if (midBatch(events[end])) continue;
    const prefix = events.slice(0, end);
    const expected = readTaskHistory('task', 'run-1', prefix)!.task;
    const history = FakeHistory.fromEvents(prefix);
    const task = await new TaskReader(
      fakeGateway(history).gateway,
      new MemoryDecisionLedger(),
    ).current(principal, 'task');
    expect([end, statusOf(task), effectiveControl(task), task.progress]).toEqual([
      end,
      statusOf(expected),
      effectiveControl(expected),
      expected.progress,
    ]);
    expect([end, task.updatedAt, task.result, task.error, task.closedAt]).toEqual([
      end,
      expected.updatedAt,
      expected.result,
      expected.error,
      expected.closedAt,
    ]);
  }
}

describe('TaskHistoryFold', () => {
  describe.each(Object.keys(EXPECTED))('%s', (name) => {
    it.each(['v1', 'v2'])('derives the same events from the %s workflow', (version) => {
      expect(described(recordedHistory(`${version}-${name}`))).toEqual(EXPECTED[name]);
    });

    it('replays from any event id exactly what follows it, reading back only to a record', () =>
      expectExactReplays(recordedHistory(`v2-${name}`)));

    it('reads the task at any point of its history as folding it up to there does', () =>
      expectReadsAtEveryPoint(recordedHistory(`v2-${name}`), dev));

    it('advances a cursor from any point to exactly the events after it', () =>
      expectExactAdvances(recordedHistory(`v2-${name}`)));
  });

  /**
   * Pause deadlines (recorded by test/fixtures/record-histories.ts): the workflow's own change
   * is told by its record, whose control version moved past every signal.
   */
  describe('pause deadlines', () => {
    const PAUSED = [
      'WORKFLOW_STARTED',
      'PROGRESS@pre_planning',
      'PROGRESS@pre_step_1',
      'workflow.pausing',
      'PROGRESS@pre_step_1',
      'PROGRESS@pre_step_2',
      'workflow.paused@pre_step_2',
    ];
    const CONTINUED = [
      'PROGRESS@pre_step_2',
      'PROGRESS@pre_synthesis',
      'PROGRESS@pre_completion',
      'WORKFLOW_COMPLETED',
    ];
    const DEADLINES: Record<string, { events: string[]; actions: string[] }> = {
      'deadline-resume': {
        events: [...PAUSED, 'workflow.resumed@pre_step_2', ...CONTINUED],
        actions: ['submit', 'pause', 'pause_timeout'],
      },
      'deadline-cancel': {
        events: [...PAUSED, 'workflow.cancelling', 'workflow.cancelled@pre_step_2'],
        actions: ['submit', 'pause', 'pause_timeout'],
      },
      'deadline-fail': {
        events: [...PAUSED, 'WORKFLOW_FAILED'],
        actions: ['submit', 'pause', 'pause_timeout'],
      },
      'deadline-fail-during-step': {
        events: [...PAUSED.slice(0, 4), 'WORKFLOW_FAILED'],
        actions: ['submit', 'pause', 'pause_timeout'],
      },
      'deadline-cleared': {
        events: [...PAUSED, 'workflow.resumed@pre_step_2', ...CONTINUED],
        actions: ['submit', 'pause', 'resume'],
      },
    };
    // Recorded with the e2e keys, of tenant acme.
    const acme: Principal = { ...dev, tenantId: 'acme' };

    describe.each(Object.keys(DEADLINES))('%s', (name) => {
      const history = () => recordedHistory(`${DEADLINE_HISTORIES}-${name}`);

      it('derives the documented events, and the actions in order', () => {
        expect(described(history())).toEqual(DEADLINES[name].events);
        const fold = new TaskHistoryFold('task', 'run-1');
        const actions: TaskAction[] = [];
        fold.onAction = (action) => actions.push(action);
        for (const event of history()) fold.apply(event);
        expect(actions.map((a) => a.action)).toEqual(DEADLINES[name].actions);
      });

      it('replays from any event id exactly what follows it, reading back only to a record', () =>
        expectExactReplays(history()));

      it('reads the task at any point of its history as folding it up to there does', () =>
        expectReadsAtEveryPoint(history(), acme));
    });

    it('tells what the system did as its own: who, why, the policy, and the end state', () => {
      const { task, events } = readTaskHistory(
        'task',
        'run-1',
        recordedHistory(`${DEADLINE_HISTORIES}-deadline-cancel`),
      )!;
      expect(events.find((e) => e.type === 'workflow.cancelling')).toMatchObject({
        message: 'Cancelling: pause timed out',
        reason: 'pause timed out',
        requested_by: 'system',
      });
      expect(effectiveControl(task)).toMatchObject({
        is_cancelled: true,
        cancel_reason: 'pause timed out',
        cancelled_by: 'system',
        timed_out: 'cancel',
      });
      const resumed = readTaskHistory(
        'task',
        'run-1',
        recordedHistory(`${DEADLINE_HISTORIES}-deadline-resume`),
      )!.events.find((e) => e.type === 'workflow.resumed');
      expect(resumed).toMatchObject({ requested_by: 'system', reason: 'pause timed out' });
      const failed = readTaskHistory(
        'task',
        'run-1',
        recordedHistory(`${DEADLINE_HISTORIES}-deadline-fail-during-step`),
      )!;
      expect([statusOf(failed.task), failed.task.error]).toEqual([
        'TASK_STATUS_FAILED',
        'pause timed out',
      ]);
      const cleared = readTaskHistory(
        'task',
        'run-1',
        recordedHistory(`${DEADLINE_HISTORIES}-deadline-cleared`),
      )!.events.find((e) => e.type === 'workflow.resumed');
      expect(cleared).toMatchObject({ requested_by: 'alice', reason: 'reviewed' });
    });
  });

  describe('approval gates and webhooks (v5)', () => {
    const START = ['WORKFLOW_STARTED', 'PROGRESS@pre_planning'];
    const STEP_1_TO_END = [
      'PROGRESS@pre_step_1',
      'PROGRESS@pre_step_2',
      'PROGRESS@pre_step_2',
      'PROGRESS@pre_synthesis',
      'PROGRESS@pre_completion',
      'WORKFLOW_COMPLETED',
    ];
    const V5: Record<string, { events: string[]; actions: string[]; approvals?: string[] }> = {
      'approval-approved': {
        events: [
          ...START,
          'PROGRESS@pre_step_1',
          'APPROVAL_REQUESTED@pre_step_1',
          'APPROVAL_DECISION@pre_step_1',
          ...STEP_1_TO_END,
        ],
        actions: ['submit', 'approve'],
        approvals: ['approved'],
      },
      // The decision stands for the cancellation it makes; the close follows.
      'approval-rejected': {
        events: [
          ...START,
          'PROGRESS@pre_step_1',
          'PROGRESS@pre_step_1',
          'PROGRESS@pre_step_2',
          'PROGRESS@pre_step_2',
          'PROGRESS@pre_synthesis',
          'APPROVAL_REQUESTED@pre_synthesis',
          'APPROVAL_DECISION@pre_synthesis',
          'workflow.cancelled@pre_synthesis',
        ],
        actions: ['submit', 'reject'],
        approvals: ['rejected'],
      },
      'approval-expired-rejected': {
        events: [
          ...START,
          'APPROVAL_REQUESTED@pre_planning',
          'APPROVAL_DECISION@pre_planning',
          'workflow.cancelled@pre_planning',
        ],
        actions: ['submit', 'reject'],
        approvals: ['expired'],
      },
      // Paused while waiting: the pause takes effect once the approval is in.
      'approval-paused-while-waiting': {
        events: [
          ...START,
          'PROGRESS@pre_step_1',
          'APPROVAL_REQUESTED@pre_step_1',
          'workflow.pausing',
          'APPROVAL_DECISION@pre_step_1',
          'workflow.paused@pre_step_1',
          'workflow.resumed@pre_step_1',
          ...STEP_1_TO_END,
        ],
        actions: ['submit', 'pause', 'approve', 'resume'],
        approvals: ['approved'],
      },
      // A webhook changes nothing in the task's own events.
      'webhook-pause-resume-completed': {
        events: [
          ...START,
          'PROGRESS@pre_step_1',
          'workflow.pausing',
          'PROGRESS@pre_step_1',
          'PROGRESS@pre_step_2',
          'workflow.paused@pre_step_2',
          'workflow.resumed@pre_step_2',
          'PROGRESS@pre_step_2',
          'PROGRESS@pre_synthesis',
          'PROGRESS@pre_completion',
          'WORKFLOW_COMPLETED',
        ],
        actions: ['submit', 'pause', 'resume'],
      },
    };
    const acme: Principal = { ...dev, tenantId: 'acme' };

    describe.each(Object.keys(V5))('%s', (name) => {
      const history = () => recordedHistory(`v5-${name}`);

      it('derives the documented events, the actions and the approvals', () => {
        expect(described(history())).toEqual(V5[name].events);
        const fold = new TaskHistoryFold('task', 'run-1');
        const actions: TaskAction[] = [];
        fold.onAction = (action) => actions.push(action);
        for (const event of history()) fold.apply(event);
        expect(actions.map((a) => a.action)).toEqual(V5[name].actions);
        expect(fold.snapshot!.approvals?.approvals.map((a) => a.state)).toEqual(V5[name].approvals);
      });

      it('replays from any event id exactly what follows it, reading back only to a record', () =>
        expectExactReplays(history()));

      it('reads the task at any point of its history as folding it up to there does', () =>
        expectReadsAtEveryPoint(history(), acme));
    });
  });

  describe('v3 workflow (executors that report models)', () => {
    it('derives the events of a task that paused between two streamed steps, and its usage', () => {
      const events = recordedHistory('v3-openai-pause-resume-completed');
      expect(described(events)).toEqual([
        ...PAUSE_RESUME.slice(0, 9),
        'PROGRESS@pre_synthesis',
        'PROGRESS@pre_completion',
        'WORKFLOW_COMPLETED',
      ]);
      // Plan 11/7, step 1 3/4, step 2 20/5 (answered on its second try), synthesis 30/10.
      expect(readTaskHistory('task', 'run-1', events)!.task.model).toEqual({
        provider: 'openai',
        model_used: 'standin',
        usage: { input_tokens: 64, output_tokens: 26, total_tokens: 90 },
      });
    });

    it('tells a live listener the output of each step as its activity completes', () => {
      const events = recordedHistory('v3-openai-pause-resume-completed');
      const fold = new TaskHistoryFold('task', 'run-1');
      const outputs: [number, string, boolean][] = [];
      fold.onStepOutput = (step, output, eventId) =>
        outputs.push([step, output, !!events[eventId - 1].activityTaskCompletedEventAttributes]);
      for (const event of events) fold.apply(event);
      expect(outputs).toEqual([
        [1, 'a b c d', true],
        [2, 'Revenue grew 12%.', true],
      ]);
    });

    it.each([
      'v3-openai-pause-resume-completed',
      'v3-http-cancelled-during-step',
      'v3-http-failed-at-step',
    ])('reads %s at any point of its history as folding it up to there does', async (name) => {
      const events = recordedHistory(name);
      for (let end = 2; end <= events.length; end++) {
        if (midBatch(events[end])) continue;
        const prefix = events.slice(0, end);
        const expected = readTaskHistory('task', 'run-1', prefix)!.task;
        const task = await new TaskReader(
          fakeGateway(FakeHistory.fromEvents(prefix)).gateway,
          new MemoryDecisionLedger(),
          // These were recorded with the e2e keys of tenant acme.
        ).current({ ...dev, tenantId: 'acme' }, 'task');
        expect([end, statusOf(task), task.progress, task.model, task.result, task.error]).toEqual([
          end,
          statusOf(expected),
          expected.progress,
          expected.model,
          expected.result,
          expected.error,
        ]);
      }
    });
  });

  it('starts after a recorded state only from an event that records one', () => {
    const [first] = recordedHistory('v2-failed-at-step');
    expect(() => TaskHistoryFold.after(first, taskSnapshot())).toThrow(
      /records no whole task state/,
    );
  });
});

describe('effectiveControl', () => {
  it('does not call a closed task paused, nor keep the deadline of a pause that was pending', () => {
    const pending = {
      ...taskSnapshot().control,
      is_paused: true,
      paused_at: '2026-01-01T00:00:00.000Z',
      pause_reason: 'r',
      paused_by: 'u',
      pause_deadline: '2026-01-01T01:00:00.000Z',
      on_timeout: 'cancel' as const,
      version: 1,
    };
    for (const terminal of ['FAILED', 'TIMEOUT', 'COMPLETED'] as const) {
      expect([terminal, effectiveControl(taskSnapshot({ terminal, control: pending }))]).toEqual([
        terminal,
        {
          ...pending,
          is_paused: false,
          paused_at: '',
          pause_reason: '',
          paused_by: '',
          pause_deadline: '',
          on_timeout: '',
        },
      ]);
    }
    expect(effectiveControl(taskSnapshot({ control: pending }))).toBe(pending);
  });
});
