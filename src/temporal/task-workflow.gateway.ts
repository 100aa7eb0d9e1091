import { Injectable } from '@nestjs/common';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import {
  defaultPayloadConverter,
  mapFromPayloads,
  type SearchAttributePair,
} from '@temporalio/common';
import { tsToDate } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { AppConfig } from '../config/app-config';
import {
  CANCEL_SIGNAL,
  ControlRequest,
  ControlSignalName,
  TASK_WORKFLOW_TYPE,
  TaskInput,
} from '../workflows/contract';
import { BATCH_WORKFLOW_TYPE, type BatchInput } from '../workflows/batch-contract';
import { TaskServiceUnavailableError } from './errors';
import { isDeadline, translateTemporalError } from './grpc-errors';
import { SearchAttributes, whileSearchAttributesPropagate } from './search-attributes';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const { PendingActivityState, PendingWorkflowTaskState, WorkflowExecutionStatus } =
  temporal.api.enums.v1;

/** No single Temporal call of a request may hang longer than this. */
const CALL_TIMEOUT_MS = 10_000;
const HISTORY_PAGE_SIZE = 256;
/** Reading backwards usually stops within a few events; a page of this many seldom needs a second. */
const TAIL_PAGE_SIZE = 32;
/** Our side of a history long poll; Temporal answers an idle one after about 20 s. */
const LONG_POLL_TIMEOUT_MS = 30_000;

/**
 * Whether a workflow task is outstanding. `started`: a worker holds one, and Temporal keeps any
 * new event (a signal) buffered, unwritten, until the worker is done. `scheduled`: one is
 * waiting for a worker; events that made it are written. `none`: everything written has been
 * processed by the workflow.
 */
export type PendingWorkflowTask = 'none' | 'scheduled' | 'started';

/** How Temporal describes the latest run of a workflow: one call, whatever its history length. */
export interface WorkflowDescription {
  runId: string;
  /** Temporal's execution status without its prefix: RUNNING, COMPLETED, CANCELED, ... */
  status: string;
  open: boolean;
  startTime: Date;
  closeTime?: Date;
  /** The memo as of the last completed workflow task, decoded. */
  memo: Record<string, unknown>;
  /** The ID of the last event written (events are numbered from 1 without gaps). */
  historyLength: number;
  pendingWorkflowTask: PendingWorkflowTask;
}

/** An activity of a run that has not ended, with what its last heartbeat said. */
export interface PendingActivity {
  activityType: string;
  /** A worker runs it now (its heartbeats arrive), as opposed to waiting for one. */
  started: boolean;
  attempt: number;
  /** The first heartbeat detail, decoded; undefined before the first heartbeat. */
  heartbeat?: unknown;
}

interface HistoryPage {
  events: HistoryEvent[];
  /** Absent at the end of a closed workflow's history. */
  nextPageToken?: Uint8Array;
}

const timestamp = (value: Parameters<typeof tsToDate>[0] | null | undefined) =>
  value ? tsToDate(value) : undefined;

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
      await this.call(() => this.searchAttributes.ensureReady());
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
   * One describe call: the status, memo, history length and pending workflow task of run
   * `runId`, or of the latest run.
   */
  async describe(workflowId: string, runId?: string): Promise<WorkflowDescription> {
    const { workflowExecutionInfo: info, pendingWorkflowTask } = await this.call(() =>
      this.client.workflowService.describeWorkflowExecution({
        namespace: this.config.temporal.namespace,
        execution: { workflowId, runId },
      }),
    );
    const status = info?.status ?? WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED;
    return {
      runId: info?.execution?.runId ?? '',
      status: WorkflowExecutionStatus[status].replace('WORKFLOW_EXECUTION_STATUS_', ''),
      open: status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
      startTime: timestamp(info?.startTime) ?? new Date(0),
      closeTime: timestamp(info?.closeTime),
      memo: mapFromPayloads(defaultPayloadConverter, info?.memo?.fields) ?? {},
      historyLength: Number(info?.historyLength ?? 0),
      pendingWorkflowTask: !pendingWorkflowTask
        ? 'none'
        : pendingWorkflowTask.state === PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
          ? 'started'
          : 'scheduled',
    };
  }

  /** The activities of run `runId` that have not ended: one describe call. */
  async pendingActivities(workflowId: string, runId: string): Promise<PendingActivity[]> {
    const { pendingActivities } = await this.call(() =>
      this.client.workflowService.describeWorkflowExecution({
        namespace: this.config.temporal.namespace,
        execution: { workflowId, runId },
      }),
    );
    return (pendingActivities ?? []).map((a) => {
      const details = a.heartbeatDetails?.payloads?.[0];
      return {
        activityType: a.activityType?.name ?? '',
        started: a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
        attempt: a.attempt ?? 1,
        heartbeat: details ? defaultPayloadConverter.fromPayload(details) : undefined,
      };
    });
  }

  /**
   * The newest events of one run, read backwards from its end until `enough` says so (given the
   * events read so far, oldest first) or the first event is reached. Oldest first. The cost is
   * what is read, whatever the length of the history before it. The first page holds
   * `pageSize` events (usually all that is needed); further pages are as large as Temporal allows.
   */
  async readBackwards(
    workflowId: string,
    runId: string,
    enough: (events: readonly HistoryEvent[]) => boolean,
    pageSize = TAIL_PAGE_SIZE,
  ): Promise<HistoryEvent[]> {
    let events: HistoryEvent[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.call(() =>
        this.client.workflowService.getWorkflowExecutionHistoryReverse({
          namespace: this.config.temporal.namespace,
          execution: { workflowId, runId },
          maximumPageSize: nextPageToken ? HISTORY_PAGE_SIZE : pageSize,
          nextPageToken,
        }),
      );
      events = [...(page.history?.events ?? []).reverse(), ...events];
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken && !enough(events));
    return events;
  }

  /** The run's history from its first event, page by page: stop iterating to stop reading. */
  async *pages(workflowId: string, runId: string): AsyncGenerator<HistoryEvent[]> {
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.call(() =>
        this.readPage({ workflowId, runId }, nextPageToken, false),
      );
      yield page.events;
      nextPageToken = page.nextPageToken;
    } while (nextPageToken);
  }

  /**
   * One page of history after `nextPageToken`, waiting (long-polling) for new events when there
   * are none yet. No token in the answer: the workflow is closed and its history read to the end.
   * Resolves to undefined when `signal` aborts the wait.
   */
  async historyPage(
    workflowId: string,
    runId: string,
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
            () => this.readPage({ workflowId, runId }, nextPageToken, true),
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
    execution: { workflowId: string; runId?: string },
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

  /** How many executions match a visibility query: one call. */
  async count(query: string): Promise<number> {
    const response = await this.call(() =>
      this.client.workflowService.countWorkflowExecutions({
        namespace: this.config.temporal.namespace,
        query,
      }),
    );
    return Number(response.count ?? 0);
  }

  /**
   * The IDs of the executions matching a visibility query, at most `max` of them (pages of a
   * thousand; nothing else of each execution is decoded).
   */
  async workflowIds(query: string, max: number): Promise<string[]> {
    const ids: string[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.call(() =>
        this.client.workflowService.listWorkflowExecutions({
          namespace: this.config.temporal.namespace,
          query,
          pageSize: Math.min(1000, max - ids.length + 1),
          nextPageToken,
        }),
      );
      for (const execution of page.executions ?? []) {
        ids.push(execution.execution?.workflowId ?? '');
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken && ids.length < max);
    return ids.slice(0, max);
  }

  /** Starts a batch workflow; its ID is new, so it cannot exist yet. */
  async startBatch(
    batchId: string,
    input: BatchInput,
    record: { memo: Record<string, unknown>; searchAttributes: SearchAttributePair[] },
  ): Promise<void> {
    await this.call(() => this.searchAttributes.ensureReady());
    await this.call(() =>
      this.client.workflow.start(BATCH_WORKFLOW_TYPE, {
        workflowId: batchId,
        taskQueue: this.config.temporal.taskQueue,
        args: [input],
        memo: record.memo,
        typedSearchAttributes: record.searchAttributes,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }),
    );
  }

  private async call<T>(fn: () => Promise<T>, deadline = Date.now() + CALL_TIMEOUT_MS): Promise<T> {
    try {
      return await this.client.connection.withDeadline(deadline, () =>
        whileSearchAttributesPropagate(fn, deadline),
      );
    } catch (err) {
      throw translateTemporalError(err);
    }
  }
}
