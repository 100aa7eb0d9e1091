import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Principal } from '../auth/principal';
import type { HistoryVersion, TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import { PAUSE_SIGNAL, TaskInput, taskStartRecord } from '../workflows/contract';
import { TaskNotFoundError } from './errors';
import type { HistoryEvent } from './task-history';
import { TasksService } from './tasks.service';

const TASK_ID = 'task_00000000-0000-4000-8000-000000000001';
const principal = (tenantId: string): Principal => ({
  tenantId,
  userId: 'u',
  keyName: 'k',
  scopes: ['tasks:read'],
});

/** A history event as the client decodes it (64-bit numbers as Long). */
const event = (fields: Record<string, unknown>): HistoryEvent =>
  temporal.api.history.v1.HistoryEvent.fromObject(fields);

function started(tenantId: string): HistoryEvent {
  const input: TaskInput = {
    query: 'q',
    session_id: 's',
    tenant_id: tenantId,
    user_id: 'u',
    mode: 'standard',
    context: {},
  };
  const { memo } = taskStartRecord(input, 'hash');
  const fields = Object.fromEntries(
    Object.entries(memo).map(([key, value]) => [key, defaultPayloadConverter.toPayload(value)]),
  );
  return event({
    eventId: 1,
    eventTime: { seconds: 1_790_000_000 },
    workflowExecutionStartedEventAttributes: { memo: { fields } },
  });
}

const pauseSignal = (eventId: number): HistoryEvent =>
  event({
    eventId,
    eventTime: { seconds: 1_790_000_000 + eventId },
    workflowExecutionSignaledEventAttributes: {
      signalName: PAUSE_SIGNAL,
      input: { payloads: [defaultPayloadConverter.toPayload({ reason: 'r', requested_by: 'u' })] },
    },
  });

/** The Temporal boundary, stubbed: a history and the version describe reports for it. */
function gateway(history: HistoryEvent[], version: Partial<HistoryVersion> = {}) {
  const calls: string[] = [];
  const stub = {
    history: history,
    version: { runId: 'run-1', length: history.length, settled: true, ...version },
    calls,
    gateway: {
      version: () => {
        calls.push('describe');
        return Promise.resolve(stub.version);
      },
      history: (_id: string, runId?: string) => {
        calls.push(`history ${runId}`);
        return Promise.resolve(stub.history);
      },
    } as unknown as TaskWorkflowGateway,
  };
  return stub;
}

describe('TasksService.latest', () => {
  it('reads the history once, then answers from one describe while the history is unchanged', async () => {
    const temporal = gateway([started('acme')]);
    const tasks = new TasksService(temporal.gateway);

    const first = await tasks.latest(principal('acme'), TASK_ID);
    const second = await tasks.latest(principal('acme'), TASK_ID);

    expect(temporal.calls).toEqual(['describe', 'history run-1', 'describe']);
    expect(second).toBe(first);
    expect(second.control.is_paused).toBe(false);
  });

  it('reads the history again as soon as it has grown, and sees the new signal', async () => {
    const temporal = gateway([started('acme')]);
    const tasks = new TasksService(temporal.gateway);
    await tasks.latest(principal('acme'), TASK_ID);

    temporal.history = [started('acme'), pauseSignal(2)];
    temporal.version = { runId: 'run-1', length: 2, settled: true };
    const task = await tasks.latest(principal('acme'), TASK_ID);

    expect(temporal.calls).toEqual(['describe', 'history run-1', 'describe', 'history run-1']);
    expect(task.control).toMatchObject({ is_paused: true, pause_reason: 'r', paused_by: 'u' });
  });

  it('reads the history while a workflow task is in flight, when signals may be unwritten', async () => {
    const temporal = gateway([started('acme')]);
    const tasks = new TasksService(temporal.gateway);
    await tasks.latest(principal('acme'), TASK_ID);

    temporal.version = { runId: 'run-1', length: 1, settled: false };
    await tasks.latest(principal('acme'), TASK_ID);

    expect(temporal.calls).toEqual(['describe', 'history run-1', 'describe', 'history run-1']);
  });

  it('reads the new run after a reset, pinned to the run describe named', async () => {
    const temporal = gateway([started('acme')]);
    const tasks = new TasksService(temporal.gateway);
    await tasks.latest(principal('acme'), TASK_ID);

    temporal.version = { runId: 'run-2', length: 1, settled: true };
    await tasks.latest(principal('acme'), TASK_ID);

    expect(temporal.calls).toEqual(['describe', 'history run-1', 'describe', 'history run-2']);
  });

  it("answers not found for another tenant's task, kept or not", async () => {
    const temporal = gateway([started('acme')]);
    const tasks = new TasksService(temporal.gateway);

    await expect(tasks.latest(principal('globex'), TASK_ID)).rejects.toBeInstanceOf(
      TaskNotFoundError,
    );
    await tasks.latest(principal('acme'), TASK_ID);
    await expect(tasks.latest(principal('globex'), TASK_ID)).rejects.toBeInstanceOf(
      TaskNotFoundError,
    );
  });

  it('answers not found for a workflow that is not a task of this service', async () => {
    const foreign = event({
      eventId: 1,
      workflowExecutionStartedEventAttributes: { memo: { fields: {} } },
    });
    const tasks = new TasksService(gateway([foreign]).gateway);

    await expect(tasks.latest(principal('acme'), TASK_ID)).rejects.toBeInstanceOf(
      TaskNotFoundError,
    );
  });
});
