import { Injectable } from '@nestjs/common';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { AppConfig } from '../config/app-config';
import { MEMO_MODE, MEMO_QUERY, TASK_STATUS_ATTRIBUTE } from '../workflows/contract';
import { translateTemporalError } from './grpc-errors';

type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null };

const Status = temporal.api.enums.v1.WorkflowExecutionStatus;

/** How Temporal says a workflow stands; closed ones keep their close status for good. */
export type ExecutionStatus =
  | 'RUNNING'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELLED'
  | 'TERMINATED'
  | 'TIMED_OUT'
  | 'CONTINUED_AS_NEW';

const EXECUTION_STATUSES: Record<number, ExecutionStatus> = {
  [Status.WORKFLOW_EXECUTION_STATUS_RUNNING]: 'RUNNING',
  [Status.WORKFLOW_EXECUTION_STATUS_COMPLETED]: 'COMPLETED',
  [Status.WORKFLOW_EXECUTION_STATUS_FAILED]: 'FAILED',
  [Status.WORKFLOW_EXECUTION_STATUS_CANCELED]: 'CANCELLED',
  [Status.WORKFLOW_EXECUTION_STATUS_TERMINATED]: 'TERMINATED',
  [Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT]: 'TIMED_OUT',
  [Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW]: 'CONTINUED_AS_NEW',
};

/** One task as Temporal's visibility store recorded it. */
export interface VisibleTask {
  taskId: string;
  /**
   * The workflow's execution time in nanoseconds since the epoch, at the precision the store
   * keeps (microseconds on SQL visibility): the listing's sort and window key. A task starts
   * with no delay, so this is its start time.
   */
  executionTimeNs: bigint;
  startTime: Date;
  closeTime?: Date;
  /** The close time at the store's precision, ns since the epoch. */
  closeTimeNs?: bigint;
  status: ExecutionStatus;
  /** Not closed yet, as visibility last recorded it. */
  open: boolean;
  /** The `TaskStatus` search attribute as the workflow last recorded it (absent until picked). */
  recordedStatus?: string;
  query: string;
  mode: string;
}

export interface VisibilityPage {
  tasks: VisibleTask[];
  /** Present when the store holds more matches after this page. */
  nextPageToken?: Uint8Array;
}

/** No single visibility call of a request may hang longer than this. */
const CALL_TIMEOUT_MS = 10_000;

const nanosOf = (ts: Timestamp | null | undefined): bigint =>
  ts ? BigInt(String(ts.seconds ?? 0)) * 1_000_000_000n + BigInt(ts.nanos ?? 0) : 0n;

const dateOf = (ts: Timestamp | null | undefined): Date | undefined =>
  ts ? new Date(Number(nanosOf(ts) / 1_000_000n)) : undefined;

function decoded(payload: Payload | null | undefined): unknown {
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return undefined;
  }
}

const asString = (value: unknown): string => (typeof value === 'string' ? value : '');

function visibleTask(info: temporal.api.workflow.v1.IWorkflowExecutionInfo): VisibleTask {
  const memo = info.memo?.fields ?? {};
  const recorded = decoded(info.searchAttributes?.indexedFields?.[TASK_STATUS_ATTRIBUTE.name]);
  const status = EXECUTION_STATUSES[info.status ?? 0] ?? 'RUNNING';
  return {
    taskId: info.execution?.workflowId ?? '',
    executionTimeNs: nanosOf(info.executionTime ?? info.startTime),
    startTime: dateOf(info.startTime) ?? new Date(0),
    closeTime: dateOf(info.closeTime),
    closeTimeNs: info.closeTime ? nanosOf(info.closeTime) : undefined,
    status,
    open: status === 'RUNNING',
    recordedStatus: typeof recorded === 'string' ? recorded : undefined,
    query: asString(decoded(memo[MEMO_QUERY])),
    mode: asString(decoded(memo[MEMO_MODE])),
  };
}

/**
 * The visibility calls behind listing: one page of a list query, and a count. The raw service
 * is used so that execution times keep their full precision; the SDK's list turns them into
 * millisecond Dates, too coarse for a cursor.
 */
@Injectable()
export class TaskVisibility {
  constructor(
    private readonly client: Client,
    private readonly config: AppConfig,
  ) {}

  /** One page of the executions matching `query`, in the store's own order. */
  async page(query: string, pageSize: number, nextPageToken?: Uint8Array): Promise<VisibilityPage> {
    const response = await this.call(() =>
      this.client.workflowService.listWorkflowExecutions({
        namespace: this.config.temporal.namespace,
        query,
        pageSize,
        nextPageToken,
      }),
    );
    return {
      tasks: (response.executions ?? []).map(visibleTask),
      nextPageToken: response.nextPageToken?.length ? response.nextPageToken : undefined,
    };
  }

  /** How many executions match `query`. */
  async count(query: string): Promise<number> {
    const response = await this.call(() =>
      this.client.workflowService.countWorkflowExecutions({
        namespace: this.config.temporal.namespace,
        query,
      }),
    );
    return Number(response.count ?? 0);
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.client.connection.withDeadline(Date.now() + CALL_TIMEOUT_MS, fn);
    } catch (err) {
      throw translateTemporalError(err);
    }
  }
}
