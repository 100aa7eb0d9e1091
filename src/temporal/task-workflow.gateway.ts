import { Injectable } from '@nestjs/common';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { AppConfig } from '../config/app-config';
import type { HistoryEvent } from '../tasks/task-history';
import {
  CANCEL_SIGNAL,
  ControlRequest,
  ControlSignalName,
  TASK_WORKFLOW_TYPE,
  TaskInput,
} from '../workflows/contract';
import { TaskServiceUnavailableError } from '../tasks/errors';
import { isDeadline, translateTemporalError } from './grpc-errors';
import { SearchAttributes } from './search-attributes';

/** A workflow, and one of its runs (the latest when `runId` is absent). */
interface Execution {
  workflowId: string;
  runId?: string;
}

const WORKFLOW_TASK_STARTED =
  temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED;

/** No single Temporal call of a request may hang longer than this. */
const CALL_TIMEOUT_MS = 10_000;
const HISTORY_PAGE_SIZE = 256;
/** Our side of a history long poll; Temporal answers an idle one after about 20 s. */
const LONG_POLL_TIMEOUT_MS = 30_000;
/** Longest wait for a workflow task in flight to end (Temporal's default task timeout is 10 s). */
const SETTLE_TIMEOUT_MS = 11_000;

/** Which run of a workflow is the latest, how far its history goes, and whether it is settled. */
export interface HistoryVersion {
  runId: string;
  /** The ID of the last event written (events are numbered from 1 without gaps). */
  length: number;
  /**
   * False while a worker holds a workflow task: Temporal may then be holding signals back,
   * accepted but not yet written, so the written history is not the whole truth.
   */
  settled: boolean;
}

interface HistoryPage {
  events: HistoryEvent[];
  /** Absent at the end of a closed workflow's history. */
  nextPageToken?: Uint8Array;
}

/** The ID of the workflow task a worker holds at the end of `events`, if any. */
function workflowTaskInFlight(events: HistoryEvent[]): number | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.workflowTaskStartedEventAttributes) return Number(e.eventId);
    if (
      e.workflowTaskCompletedEventAttributes ||
      e.workflowTaskFailedEventAttributes ||
      e.workflowTaskTimedOutEventAttributes
    ) {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The Temporal calls behind task operations, and nothing else: no task rules live here. Every
 * Temporal error leaves this class as a domain error (not found, unavailable) or unchanged.
 */
@Injectable()
export class TaskWorkflowGateway {
  constructor(
    private readonly client: Client,
    private readonly config: AppConfig,
    private readonly searchAttributes: SearchAttributes,
  ) {}

  /** Starts the workflow; false when one with this ID exists already, open or closed. */
  async start(
    workflowId: string,
    input: TaskInput,
    record: { memo: Record<string, unknown>; searchAttributes: SearchAttributePair[] },
  ): Promise<boolean> {
    try {
      await this.call(() => this.searchAttributes.ensureRegistered());
      await this.call(() =>
        this.client.workflow.start(TASK_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: this.config.temporal.taskQueue,
          args: [input],
          memo: record.memo,
          typedSearchAttributes: record.searchAttributes,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  /**
   * The whole history of the workflow's latest run (or of run `runId`), oldest event first,
   * including every signal Temporal has accepted so far.
   *
   * While a worker holds a workflow task, Temporal buffers new events (our signals among them)
   * and writes them only when that task ends. So when the history ends in a task in flight, this
   * waits (long-polls) until that task has ended: a pause answered 202 is then always visible
   * to the resume that follows it. A healthy worker ends a task in milliseconds.
   */
  async history(workflowId: string, runId?: string): Promise<HistoryEvent[]> {
    const execution = { workflowId, runId };
    const events: HistoryEvent[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.call(() => this.readPage(execution, nextPageToken, false));
      events.push(...page.events);
      nextPageToken = page.nextPageToken;
    } while (nextPageToken);
    return workflowTaskInFlight(events) === undefined ? events : this.settledHistory(execution);
  }

  /** One describe call: the latest run's ID, history length and whether a task is in flight. */
  async version(workflowId: string): Promise<HistoryVersion> {
    const { workflowExecutionInfo: info, pendingWorkflowTask } = await this.call(() =>
      this.client.workflowService.describeWorkflowExecution({
        namespace: this.config.temporal.namespace,
        execution: { workflowId },
      }),
    );
    return {
      runId: info?.execution?.runId ?? '',
      length: Number(info?.historyLength ?? 0),
      settled: pendingWorkflowTask?.state !== WORKFLOW_TASK_STARTED,
    };
  }

  /** The history once the workflow task in flight at the first read has ended. */
  private async settledHistory(execution: Execution): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextPageToken: Uint8Array | undefined;
    let waitUntil: number | undefined;
    let awaited: number | undefined;
    for (;;) {
      const page = await this.call(
        () => this.readPage(execution, nextPageToken, true),
        waitUntil,
      ).catch((err: unknown) => {
        // A worker that died holding the task: Temporal ends it at its timeout. Do not fail the
        // request for that; answer from what is written.
        if (waitUntil !== undefined && err instanceof TaskServiceUnavailableError) return undefined;
        throw err;
      });
      if (!page) return events;
      events.push(...page.events);
      nextPageToken = page.nextPageToken;
      // No token: the workflow is closed and this is all of it.
      if (!nextPageToken) return events;
      if (page.events.length >= HISTORY_PAGE_SIZE) continue;
      // The last page of an open workflow: the next call waits for a new event. Wait only for
      // the task that was in flight at first; a later one holds no signal sent before us.
      const inFlight = workflowTaskInFlight(events);
      if (inFlight === undefined || (awaited !== undefined && inFlight !== awaited)) return events;
      awaited = inFlight;
      waitUntil ??= Date.now() + SETTLE_TIMEOUT_MS;
    }
  }

  /**
   * One page of history after `nextPageToken`, waiting (long-polling) for new events when there
   * are none yet. No token in the answer: the workflow is closed and its history read to the end.
   * Resolves to undefined when `signal` aborts the wait.
   */
  async historyPage(
    workflowId: string,
    nextPageToken: Uint8Array | undefined,
    signal: AbortSignal,
  ): Promise<HistoryPage | undefined> {
    for (;;) {
      // One controller per call: the SDK adds an abort listener to the signal it is given and
      // never removes it, which would pile up on a feed's long-lived signal.
      const call = new AbortController();
      const abortCall = (): void => call.abort();
      signal.addEventListener('abort', abortCall);
      try {
        return await this.client.connection.withAbortSignal(call.signal, () =>
          this.call(
            () => this.readPage({ workflowId }, nextPageToken, true),
            Date.now() + LONG_POLL_TIMEOUT_MS,
          ),
        );
      } catch (err) {
        if (signal.aborted) return undefined;
        // The server answers an idle long poll by itself; ask again if our deadline came first.
        if (err instanceof TaskServiceUnavailableError && isDeadline(err)) continue;
        throw err;
      } finally {
        signal.removeEventListener('abort', abortCall);
      }
    }
  }

  /**
   * One page of the run's history (the latest run's without a run ID); with `waitNewEvent`, a
   * long poll at its end.
   */
  private async readPage(
    execution: Execution,
    nextPageToken: Uint8Array | undefined,
    waitNewEvent: boolean,
  ): Promise<HistoryPage> {
    const page = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.config.temporal.namespace,
      execution,
      nextPageToken,
      maximumPageSize: HISTORY_PAGE_SIZE,
      waitNewEvent,
    });
    return {
      events: page.history?.events ?? [],
      nextPageToken: page.nextPageToken?.length ? page.nextPageToken : undefined,
    };
  }

  async signal(
    workflowId: string,
    name: ControlSignalName,
    request: ControlRequest,
  ): Promise<void> {
    await this.call(() => this.client.workflow.getHandle(workflowId).signal(name, request));
  }

  /** Sends cancel_v1 (who and why) and then asks Temporal to cancel the workflow. */
  async cancel(workflowId: string, request: ControlRequest | undefined): Promise<void> {
    const handle = this.client.workflow.getHandle(workflowId);
    if (request) await this.call(() => handle.signal(CANCEL_SIGNAL, request));
    await this.call(() => handle.cancel());
  }

  /** Whether Temporal answers for our namespace within the timeout. */
  async isReachable(timeoutMs: number): Promise<boolean> {
    try {
      await this.client.connection.withDeadline(Date.now() + timeoutMs, () =>
        this.client.workflowService.describeNamespace({
          namespace: this.config.temporal.namespace,
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  private async call<T>(fn: () => Promise<T>, deadline = Date.now() + CALL_TIMEOUT_MS): Promise<T> {
    try {
      return await this.client.connection.withDeadline(deadline, fn);
    } catch (err) {
      throw translateTemporalError(err);
    }
  }
}
