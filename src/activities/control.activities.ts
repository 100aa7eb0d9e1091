import { Injectable, Logger } from '@nestjs/common';
import { CancelledFailure, Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Principal } from '../auth/principal';
import { describeError } from '../common/error-chain';
import { continueTrace, runInRequestContext } from '../common/request-context';
import { AppConfig } from '../config/app-config';
import {
  TaskAlreadyTerminalError,
  TaskNotFoundError,
  TaskServiceUnavailableError,
  TaskStateConflictError,
} from '../tasks/errors';
import { TasksService } from '../tasks/tasks.service';
import { TaskWorkflowGateway, type HistoryEvent } from '../temporal/task-workflow.gateway';
import type { BatchCounts, BatchInput, BatchOutcome } from '../workflows/batch-contract';
import { CANCEL_SIGNAL, isControlSignalName, toControlRequest } from '../workflows/contract';
import type { ControlActivities } from '../workflows/activity-contract';

const eventMillis = ({ eventTime }: HistoryEvent): number =>
  eventTime
    ? Number(String(eventTime.seconds ?? 0)) * 1000 + Math.floor((eventTime.nanos ?? 0) / 1e6)
    : 0;

/**
 * The activities that control tasks from the worker: a pause deadline's cancellation request,
 * and the decisions of a batch. A batch decides on each task with the API's own TasksService
 * (the same reads, rules and decision ledger; shared with the API instances through
 * REDIS_URL), so a batch and concurrent API requests never both act on one state.
 */
@Injectable()
export class TaskControlActivities {
  private readonly logger = new Logger('Batches');

  constructor(
    private readonly tasks: TasksService,
    private readonly workflows: TaskWorkflowGateway,
    private readonly config: AppConfig,
  ) {}

  activities(): ControlActivities {
    return {
      requestTaskCancellation: (taskId) => this.requestCancellation(taskId),
      applyBatchAction: (chunk) => this.applyBatchAction(chunk),
    };
  }

  /** Asking again changes nothing; a workflow closed meanwhile needs nothing more. */
  private async requestCancellation(taskId: string): Promise<void> {
    try {
      await this.workflows.cancel(taskId, undefined);
    } catch (err) {
      if (!(err instanceof TaskNotFoundError)) throw err;
    }
  }

  /**
   * Decides on each task of the chunk, a few at a time, under the batch's request (its request
   * id and trace go into each task's history with the action). Temporal being unreachable fails
   * the attempt, to be retried; a retried attempt first looks in each task's history for this
   * batch's signal, so a task acted on before a crash counts as done, not as skipped.
   */
  private applyBatchAction(chunk: BatchInput): Promise<Omit<BatchCounts, 'matched'>> {
    const context = Context.current();
    return this.applyChunk(chunk, {
      retried: context.info.attempt > 1,
      heartbeat: () => context.heartbeat(),
      cancelled: context.cancellationSignal,
    });
  }

  /** The chunk's decisions, given what the activity's context tells (a seam for unit specs). */
  async applyChunk(
    chunk: BatchInput,
    attempt: { retried: boolean; heartbeat: () => void; cancelled: AbortSignal },
  ): Promise<Omit<BatchCounts, 'matched'>> {
    const { retried } = attempt;
    const principal: Principal = {
      tenantId: chunk.tenant_id,
      userId: chunk.actor,
      keyName: chunk.key_name,
      scopes: ['tasks:read', 'tasks:write'],
    };
    const request = {
      requestId: chunk.request_id,
      trace: continueTrace(
        chunk.trace_id ? { traceId: chunk.trace_id, spanId: '', flags: '01' } : undefined,
      ),
    };
    const counts = { succeeded: 0, skipped: 0, failed: 0 };
    let next = 0;
    let stop = false;
    const worker = async (): Promise<void> => {
      while (!stop && next < chunk.task_ids.length) {
        if (attempt.cancelled.aborted) throw new CancelledFailure('Batch cancelled');
        const taskId = chunk.task_ids[next++];
        const outcome = await runInRequestContext(request, () =>
          this.decide(chunk, principal, taskId, retried),
        );
        counts[outcome]++;
        attempt.heartbeat();
      }
    };
    const concurrency = Math.min(this.config.worker.batchConcurrency, chunk.task_ids.length);
    try {
      await Promise.all(Array.from({ length: concurrency }, worker));
    } finally {
      stop = true;
    }
    return counts;
  }

  private async decide(
    chunk: BatchInput,
    principal: Principal,
    taskId: string,
    retried: boolean,
  ): Promise<BatchOutcome> {
    if (retried && (await this.actedOnBefore(chunk, taskId))) return 'succeeded';
    try {
      const { sent } = await this.tasks.control(principal, taskId, chunk.action, {
        reason: chunk.reason,
        batchId: chunk.batch_id,
      });
      return sent ? 'succeeded' : 'skipped';
    } catch (err) {
      if (
        err instanceof TaskStateConflictError ||
        err instanceof TaskAlreadyTerminalError ||
        err instanceof TaskNotFoundError
      ) {
        return 'skipped';
      }
      if (err instanceof TaskServiceUnavailableError) throw err;
      this.logger.error(
        `Batch ${chunk.batch_id}: ${chunk.action} of ${taskId} failed: ${describeError(err)}`,
      );
      return 'failed';
    }
  }

  /**
   * Whether an earlier attempt signalled the task for this batch: its history, read back to
   * when the batch was accepted, holds a control signal carrying the batch's id. A cancel whose
   * attempt died between its signal and its cancellation request gets the request now.
   */
  private async actedOnBefore(chunk: BatchInput, taskId: string): Promise<boolean> {
    const since = Date.parse(chunk.accepted_at);
    let events: HistoryEvent[];
    try {
      events = await this.workflows.readBackwards(
        taskId,
        '',
        (read) => read.length > 0 && eventMillis(read[0]) < since,
      );
    } catch (err) {
      if (err instanceof TaskNotFoundError) return false;
      throw err;
    }
    const signal = events.find((event) => {
      const signaled = event.workflowExecutionSignaledEventAttributes;
      if (!signaled?.signalName || !isControlSignalName(signaled.signalName)) return false;
      const payload = signaled.input?.payloads?.[0];
      const request = toControlRequest(payload && defaultPayloadConverter.fromPayload(payload));
      return request.batch_id === chunk.batch_id;
    });
    if (!signal) return false;
    if (signal.workflowExecutionSignaledEventAttributes?.signalName === CANCEL_SIGNAL) {
      await this.requestCancellation(taskId);
    }
    return true;
  }
}
