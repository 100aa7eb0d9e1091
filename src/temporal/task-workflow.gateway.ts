import { Injectable } from '@nestjs/common';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { AppConfig } from '../config/app-config';
import type { HistoryEvent } from '../tasks/task-snapshot';
import {
  CANCEL_SIGNAL,
  ControlRequest,
  ControlSignalName,
  TASK_WORKFLOW_TYPE,
  TaskInput,
} from '../workflows/contract';
import { translateTemporalError } from './grpc-errors';

/** No single Temporal call of a request may hang longer than this. */
const CALL_TIMEOUT_MS = 10_000;

/**
 * The Temporal calls behind task operations, and nothing else: no task rules live here. Every
 * Temporal error leaves this class as a domain error (not found, unavailable) or unchanged.
 */
@Injectable()
export class TaskWorkflowGateway {
  constructor(
    private readonly client: Client,
    private readonly config: AppConfig,
  ) {}

  /** Starts the workflow; false when one with this ID exists already, open or closed. */
  async start(workflowId: string, input: TaskInput, memo: Record<string, unknown>): Promise<boolean> {
    try {
      await this.call(() =>
        this.client.workflow.start(TASK_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: this.config.temporal.taskQueue,
          args: [input],
          memo,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  /** The whole history of the workflow's latest run, oldest event first. */
  async history(workflowId: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.call(() =>
        this.client.workflowService.getWorkflowExecutionHistory({
          namespace: this.config.temporal.namespace,
          execution: { workflowId },
          nextPageToken,
        }),
      );
      events.push(...(page.history?.events ?? []));
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return events;
  }

  async signal(workflowId: string, name: ControlSignalName, request: ControlRequest): Promise<void> {
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
        this.client.workflowService.describeNamespace({ namespace: this.config.temporal.namespace }),
      );
      return true;
    } catch {
      return false;
    }
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.client.connection.withDeadline(Date.now() + CALL_TIMEOUT_MS, fn);
    } catch (err) {
      throw translateTemporalError(err);
    }
  }
}
