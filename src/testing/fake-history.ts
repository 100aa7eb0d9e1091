/**
 * Hand-built workflow histories and a stub of the Temporal boundary for unit specs: events as
 * the client decodes them, and describe / read-backwards / forward pages answering from them as
 * Temporal would.
 */
import { defaultPayloadConverter, mapFromPayloads } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  HistoryEvent,
  PendingWorkflowTask,
  TaskWorkflowGateway,
  WorkflowDescription,
} from '../temporal/task-workflow.gateway';
import {
  ControlRecord,
  ControlRequest,
  ControlSignalName,
  MEMO_CONTROL,
  MEMO_PROGRESS,
  MEMO_UPDATED_AT,
  TaskInput,
  TaskProgress,
  taskStartRecord,
} from '../workflows/contract';

const T0 = 1_790_000_000;

const payloads = (value: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(value)] });
const memoFields = (memo: Record<string, unknown>) => ({
  fields: Object.fromEntries(
    Object.entries(memo).map(([key, value]) => [key, defaultPayloadConverter.toPayload(value)]),
  ),
});

/** A history under construction: each helper appends one event with the next ID. */
export class FakeHistory {
  readonly events: HistoryEvent[] = [];
  /** The memo as Temporal would describe it: the start record plus the last upserts. */
  memo: Record<string, unknown>;
  pending: PendingWorkflowTask = 'scheduled';
  open = true;
  runId = 'run-1';

  constructor(tenantId = 'acme') {
    const input: TaskInput = {
      query: 'q',
      session_id: 's',
      tenant_id: tenantId,
      user_id: 'u',
      mode: 'standard',
      context: {},
    };
    this.memo = { ...taskStartRecord(input, 'hash').memo };
    this.add({ workflowExecutionStartedEventAttributes: { memo: memoFields(this.memo) } });
    this.add({ workflowTaskScheduledEventAttributes: {} });
  }

  /**
   * A history made of recorded events, described as Temporal would describe it once exactly
   * these events are written: the memo holds the start record and every upsert, a workflow
   * task is outstanding when the last workflow-task event scheduled or started one.
   */
  static fromEvents(events: readonly HistoryEvent[]): FakeHistory {
    const history = Object.create(FakeHistory.prototype) as FakeHistory;
    Object.assign(history, { events: [...events], runId: 'run-1', open: true, pending: 'none' });
    let memo: Record<string, unknown> = {};
    for (const event of events) {
      const fields =
        event.workflowExecutionStartedEventAttributes?.memo?.fields ??
        event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields;
      if (fields) memo = { ...memo, ...mapFromPayloads(defaultPayloadConverter, fields) };
      if (event.workflowTaskScheduledEventAttributes) history.pending = 'scheduled';
      if (event.workflowTaskStartedEventAttributes) history.pending = 'started';
      if (
        event.workflowTaskCompletedEventAttributes ||
        event.workflowTaskFailedEventAttributes ||
        event.workflowTaskTimedOutEventAttributes
      ) {
        history.pending = 'none';
      }
      if (
        event.workflowExecutionCompletedEventAttributes ||
        event.workflowExecutionFailedEventAttributes ||
        event.workflowExecutionCanceledEventAttributes ||
        event.workflowExecutionTerminatedEventAttributes ||
        event.workflowExecutionTimedOutEventAttributes
      ) {
        history.open = false;
        history.pending = 'none';
      }
    }
    history.memo = memo;
    return history;
  }

  /** Seconds after the start, of event `id`. */
  static time(id: number): Date {
    return new Date((T0 + id) * 1000);
  }

  add(fields: Record<string, unknown>): HistoryEvent {
    const eventId = this.events.length + 1;
    const event = temporal.api.history.v1.HistoryEvent.fromObject({
      eventId,
      eventTime: { seconds: T0 + eventId },
      ...fields,
    });
    this.events.push(event);
    return event;
  }

  signal(name: ControlSignalName, request: ControlRequest): this {
    this.add({
      workflowExecutionSignaledEventAttributes: { signalName: name, input: payloads(request) },
    });
    return this;
  }

  /** A worker takes a workflow task and completes it, recording `state` in the memo. */
  workflowTask(state?: {
    control: ControlRecord;
    progress: TaskProgress;
    updatedAt: string;
  }): this {
    this.add({ workflowTaskStartedEventAttributes: {} });
    this.add({ workflowTaskCompletedEventAttributes: {} });
    if (state) {
      const upserted = {
        [MEMO_CONTROL]: state.control,
        [MEMO_PROGRESS]: state.progress,
        [MEMO_UPDATED_AT]: state.updatedAt,
      };
      this.memo = { ...this.memo, ...upserted };
      this.add({
        workflowPropertiesModifiedEventAttributes: { upsertedMemo: memoFields(upserted) },
      });
    }
    this.pending = 'none';
    return this;
  }

  completed(result: string): this {
    this.add({ workflowExecutionCompletedEventAttributes: { result: payloads(result) } });
    this.open = false;
    this.pending = 'none';
    return this;
  }

  describe(): WorkflowDescription {
    const time = (event: HistoryEvent | undefined) =>
      new Date(
        Number(String(event?.eventTime?.seconds ?? 0)) * 1000 +
          Math.floor((event?.eventTime?.nanos ?? 0) / 1e6),
      );
    return {
      runId: this.runId,
      status: this.open ? 'RUNNING' : 'COMPLETED',
      open: this.open,
      startTime: time(this.events[0]),
      closeTime: this.open ? undefined : time(this.events.at(-1)),
      memo: this.memo,
      historyLength: this.events.length,
      pendingWorkflowTask: this.pending,
    };
  }
}

/** Events recorded from a real run: `temporal workflow show --output json` of test/fixtures. */
export function recordedHistory(name: string): HistoryEvent[] {
  const file = join(__dirname, '..', '..', 'test', 'fixtures', 'histories', `${name}.json`);
  return historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))).events ?? [];
}

/** The Temporal boundary answering from `history`, recording each call and what it read. */
export function fakeGateway(history: FakeHistory) {
  const calls: string[] = [];
  let eventsRead = 0;
  const gateway = {
    describe: () => {
      calls.push('describe');
      return Promise.resolve(history.describe());
    },
    readBackwards: (
      _workflowId: string,
      runId: string,
      enough: (events: readonly HistoryEvent[]) => boolean,
      pageSize = 32,
    ) => {
      calls.push(`readBackwards ${runId}`);
      let end = history.events.length;
      let read: HistoryEvent[] = [];
      while (end > 0) {
        const start = Math.max(0, end - pageSize);
        read = [...history.events.slice(start, end), ...read];
        eventsRead += end - start;
        end = start;
        if (enough(read)) break;
      }
      return Promise.resolve(read);
    },
    // Forward from the first event, in pages of 256 as the gateway reads them.
    pages: async function* (_workflowId: string, runId: string) {
      calls.push(`pages ${runId}`);
      for (let start = 0; start < history.events.length; start += 256) {
        const page = history.events.slice(start, start + 256);
        eventsRead += page.length;
        yield await Promise.resolve(page);
      }
    },
    signal: (_workflowId: string, name: string) => {
      calls.push(`signal ${name}`);
      return Promise.resolve();
    },
  };
  return {
    gateway: gateway as unknown as TaskWorkflowGateway,
    calls,
    get eventsRead() {
      return eventsRead;
    },
  };
}
