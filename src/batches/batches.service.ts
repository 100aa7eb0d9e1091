import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal';
import { InvalidInputError } from '../common/domain-error';
import { currentRequest } from '../common/request-context';
import { TaskNotFoundError } from '../tasks/errors';
import { TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import {
  BatchAction,
  BatchCounts,
  BatchInput,
  BatchRecord,
  MEMO_BATCH,
  MEMO_BATCH_COUNTS,
} from '../workflows/batch-contract';
import { TENANT_ID_ATTRIBUTE } from '../workflows/contract';
import { BatchFilter, batchQuery } from './batch-filter';
import { BatchNotFoundError } from './errors';

/** The most tasks one batch acts on: its task IDs travel in the batch workflow's input. */
export const MAX_BATCH_TASKS = 10_000;

export interface BatchRequest {
  action: BatchAction;
  filter: BatchFilter;
  reason: string;
}

export interface BatchView extends BatchCounts {
  batchId: string;
  action: BatchAction;
  state: 'running' | 'completed' | 'failed';
  startedAt: Date;
  closedAt?: Date;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : 0;

/**
 * Bulk control: which of a tenant's tasks a filter matches, and batches that apply one action
 * to them. A batch is a Temporal workflow (taskBatchWorkflow) run by the workers, so it goes on
 * whatever happens to the API; its counts are in its memo, one describe call away.
 */
@Injectable()
export class BatchesService {
  constructor(private readonly workflows: TaskWorkflowGateway) {}

  /** How many of the caller's tasks the filter matches now: one count call. */
  matching(principal: Principal, filter: BatchFilter): Promise<number> {
    return this.workflows.count(batchQuery(principal.tenantId, filter));
  }

  /**
   * Fixes the tasks the filter matches now and starts the batch that acts on them. Once this
   * returns, the batch is Temporal's: it is carried out through restarts of anything.
   */
  async start(
    principal: Principal,
    request: BatchRequest,
  ): Promise<{ batchId: string; matched: number }> {
    const taskIds = await this.workflows.workflowIds(
      batchQuery(principal.tenantId, request.filter),
      MAX_BATCH_TASKS + 1,
    );
    if (taskIds.length > MAX_BATCH_TASKS) {
      throw new InvalidInputError(
        `The filter matches more than ${MAX_BATCH_TASKS} tasks, the most one batch acts on: narrow it`,
      );
    }
    const batchId = `batch_${randomUUID()}`;
    const context = currentRequest();
    const input: BatchInput = {
      batch_id: batchId,
      tenant_id: principal.tenantId,
      action: request.action,
      reason: request.reason,
      actor: principal.userId,
      key_name: principal.keyName,
      request_id: context?.requestId ?? '',
      trace_id: context?.trace.traceId ?? '',
      accepted_at: new Date().toISOString(),
      task_ids: taskIds,
    };
    const record: BatchRecord = { tenant_id: principal.tenantId, action: request.action };
    const counts: BatchCounts = { matched: taskIds.length, succeeded: 0, skipped: 0, failed: 0 };
    await this.workflows.startBatch(batchId, input, {
      memo: { [MEMO_BATCH]: record, [MEMO_BATCH_COUNTS]: counts },
      searchAttributes: [{ key: TENANT_ID_ATTRIBUTE, value: principal.tenantId }],
    });
    return { batchId, matched: taskIds.length };
  }

  /** A batch of the caller's tenant as it stands: one describe call. */
  async get(principal: Principal, batchId: string): Promise<BatchView> {
    let described;
    try {
      described = await this.workflows.describe(batchId);
    } catch (err) {
      if (err instanceof TaskNotFoundError) throw new BatchNotFoundError();
      throw err;
    }
    const record = described.memo[MEMO_BATCH];
    if (!isObject(record) || record.tenant_id !== principal.tenantId) {
      throw new BatchNotFoundError();
    }
    const counts = isObject(described.memo[MEMO_BATCH_COUNTS])
      ? described.memo[MEMO_BATCH_COUNTS]
      : {};
    return {
      batchId,
      action: record.action as BatchAction,
      state: described.open ? 'running' : described.status === 'COMPLETED' ? 'completed' : 'failed',
      matched: count(counts.matched),
      succeeded: count(counts.succeeded),
      skipped: count(counts.skipped),
      failed: count(counts.failed),
      startedAt: described.startTime,
      closedAt: described.closeTime,
    };
  }
}
