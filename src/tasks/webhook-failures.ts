import { Injectable } from '@nestjs/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import {
  MEMO_DELIVERIES,
  toDeliveryProgress,
  webhookWorkflowId,
} from '../workflows/webhook-contract';

/** Events read back to find the result of a session that just ended (it is among the last). */
const RESULT_LOOKBACK = 8;

/**
 * How many delivery attempts of a task's webhook failed so far, for `webhook_failures`: the
 * largest count any record of the delivery workflow holds. A running session heartbeats it
 * (ahead of the memo); the memo gets it when a session ends; and in between, while the
 * workflow has not yet processed a session's result, only that result holds it: then (a
 * pending workflow task and no heartbeat) the last few events are read too, so the count never
 * seems to go back.
 */
@Injectable()
export class WebhookFailures {
  constructor(private readonly workflows: TaskWorkflowGateway) {}

  async of(taskId: string): Promise<number> {
    const workflowId = webhookWorkflowId(taskId);
    const described = await this.workflows.describeWithHeartbeat(workflowId);
    if (!described) return 0; // not started yet: nothing attempted
    const counts = [
      toDeliveryProgress(described.memo[MEMO_DELIVERIES])?.failures ?? 0,
      toDeliveryProgress(described.heartbeat)?.failures ?? 0,
    ];
    if (described.heartbeat === undefined && described.pendingWorkflowTask !== 'none') {
      const events = await this.workflows.readBackwards(
        workflowId,
        described.runId,
        (read) => read.some((e) => e.activityTaskCompletedEventAttributes),
        RESULT_LOOKBACK,
      );
      const completed = [...events].reverse().find((e) => e.activityTaskCompletedEventAttributes);
      const payload = completed?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
      const result = payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
      counts.push(toDeliveryProgress((result as { progress?: unknown })?.progress)?.failures ?? 0);
    }
    return Math.max(...counts);
  }
}
