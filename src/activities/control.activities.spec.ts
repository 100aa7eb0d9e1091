import { currentRequest } from '../common/request-context';
import type { AppConfig } from '../config/app-config';
import {
  TaskAlreadyTerminalError,
  TaskNotFoundError,
  TaskServiceUnavailableError,
  TaskStateConflictError,
} from '../tasks/errors';
import { FakeHistory } from '../testing/fake-history';
import type { ControlOptions, ControlOutcome, TasksService } from '../tasks/tasks.service';
import type { HistoryEvent, TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import type { BatchInput } from '../workflows/batch-contract';
import { CANCEL_SIGNAL, PAUSE_SIGNAL } from '../workflows/contract';
import { TaskControlActivities } from './control.activities';

const chunk = (change: Partial<BatchInput> = {}): BatchInput => ({
  batch_id: 'batch_1',
  tenant_id: 'acme',
  action: 'pause',
  reason: 'maintenance',
  actor: 'alice',
  key_name: 'acme-writer',
  request_id: 'req-1',
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  accepted_at: '2020-01-01T00:00:00.000Z',
  task_ids: ['t1'],
  ...change,
});

/** What each task's decision does, by task ID. */
type Behaviour = ControlOutcome | Error;

function activities(
  behaviours: Record<string, Behaviour>,
  histories: Record<string, HistoryEvent[]> = {},
) {
  const decided: { taskId: string; options: ControlOptions; requestId?: string }[] = [];
  const cancelled: string[] = [];
  const tasks = {
    control: (_principal: unknown, taskId: string, _action: unknown, options: ControlOptions) => {
      decided.push({ taskId, options, requestId: currentRequest()?.requestId });
      const behaviour = behaviours[taskId];
      return behaviour instanceof Error ? Promise.reject(behaviour) : Promise.resolve(behaviour);
    },
  } as unknown as TasksService;
  const workflows = {
    readBackwards: (taskId: string) => Promise.resolve(histories[taskId] ?? []),
    cancel: (taskId: string) => {
      cancelled.push(taskId);
      return Promise.resolve();
    },
  } as unknown as TaskWorkflowGateway;
  const config = { worker: { batchConcurrency: 3 } } as AppConfig;
  return { control: new TaskControlActivities(tasks, workflows, config), decided, cancelled };
}

const attempt = (retried: boolean) => ({
  retried,
  heartbeat: () => undefined,
  cancelled: new AbortController().signal,
});

const sent: ControlOutcome = { etag: '"e"', sent: true };

describe('TaskControlActivities.applyChunk', () => {
  it('counts each task by what its decision did', async () => {
    const { control, decided } = activities({
      t1: sent,
      t2: { etag: '"e"', sent: false },
      t3: new TaskStateConflictError('task is not paused'),
      t4: new TaskAlreadyTerminalError('COMPLETED'),
      t5: new TaskNotFoundError(),
      t6: new Error('a bug'),
    });

    const counts = await control.applyChunk(
      chunk({ task_ids: ['t1', 't2', 't3', 't4', 't5', 't6'] }),
      attempt(false),
    );

    expect(counts).toEqual({ succeeded: 1, skipped: 4, failed: 1 });
    // Each decision carries the batch and runs under the batch's request.
    expect(decided.map((d) => [d.taskId, d.options, d.requestId]).sort()).toEqual(
      ['t1', 't2', 't3', 't4', 't5', 't6'].map((taskId) => [
        taskId,
        { reason: 'maintenance', batchId: 'batch_1' },
        'req-1',
      ]),
    );
  });

  it('fails the attempt while Temporal is unreachable, to be retried', async () => {
    const { control } = activities({ t1: sent, t2: new TaskServiceUnavailableError() });
    await expect(
      control.applyChunk(chunk({ task_ids: ['t1', 't2'] }), attempt(false)),
    ).rejects.toBeInstanceOf(TaskServiceUnavailableError);
  });

  it('on a retry, counts a task this batch signalled before as done, without deciding again', async () => {
    const signalled = new FakeHistory().signal(PAUSE_SIGNAL, {
      reason: 'maintenance',
      requested_by: 'alice',
      batch_id: 'batch_1',
    }).events;
    const otherBatch = new FakeHistory().signal(PAUSE_SIGNAL, {
      reason: '',
      requested_by: 'bob',
      batch_id: 'batch_0',
    }).events;
    const { control, decided } = activities(
      { t2: new TaskStateConflictError('task is already paused') },
      { t1: signalled, t2: otherBatch },
    );

    const counts = await control.applyChunk(chunk({ task_ids: ['t1', 't2'] }), attempt(true));

    expect(counts).toEqual({ succeeded: 1, skipped: 1, failed: 0 });
    expect(decided.map((d) => d.taskId)).toEqual(['t2']);
  });

  it('on a retry, requests the cancellation again of a task this batch sent cancel_v1 to', async () => {
    const signalled = new FakeHistory().signal(CANCEL_SIGNAL, {
      reason: '',
      requested_by: 'alice',
      batch_id: 'batch_1',
    }).events;
    const { control, decided, cancelled } = activities({}, { t1: signalled });

    const counts = await control.applyChunk(chunk({ action: 'cancel' }), attempt(true));

    expect(counts).toEqual({ succeeded: 1, skipped: 0, failed: 0 });
    expect([decided, cancelled]).toEqual([[], ['t1']]);
  });

  it('stops when the batch is cancelled', async () => {
    const { control } = activities({ t1: sent });
    const stop = new AbortController();
    stop.abort();
    await expect(
      control.applyChunk(chunk(), { ...attempt(false), cancelled: stop.signal }),
    ).rejects.toThrow('Batch cancelled');
  });
});
