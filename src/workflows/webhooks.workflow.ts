import {
  makeContinueAsNewFunc,
  sleep,
  proxyActivities,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import {
  DeliveryProgress,
  MEMO_DELIVERIES,
  TaskWebhooksInput,
  WebhookActivities,
  initialDeliveryProgress,
  webhookTaskQueue,
} from './webhook-contract';

/** Sessions per run before continuing as new (each adds a handful of events to the history). */
const SESSIONS_PER_RUN = 200;

/**
 * Delivers a task's webhooks: started by the task as its child (and left running when the task
 * closes), it runs delivery sessions until every event of the closed task is done. A session is
 * one long activity on the webhook task queue that follows the task's history and POSTs each
 * event in order, heartbeating where it stands: when its worker dies, Temporal runs it again
 * elsewhere from the last heartbeat. After each session the progress goes into the memo, where
 * the API reads `webhook_failures` with one describe call (heartbeats tell it in between).
 */
export async function taskWebhooksWorkflow(input: TaskWebhooksInput): Promise<DeliveryProgress> {
  const { deliverTaskWebhooks } = proxyActivities<WebhookActivities>({
    taskQueue: webhookTaskQueue(workflowInfo().taskQueue),
    // A session ends by itself within an hour (it returns where it stands).
    startToCloseTimeout: '2 hours',
    // A session heartbeats each second: a dead worker's session runs again within seconds.
    heartbeatTimeout: '10 seconds',
    // A session only fails when its worker stops or dies: retried for as long as it takes.
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });
  const { task_id, run_id, webhook } = input;
  let progress = input.progress ?? initialDeliveryProgress();
  for (let session = 0; session < SESSIONS_PER_RUN; session++) {
    const result = await deliverTaskWebhooks({ task_id, run_id, webhook, progress });
    progress = result.progress;
    upsertMemo({ [MEMO_DELIVERIES]: progress });
    if (result.done) return progress;
    // A long backoff before the next attempt: wait on a durable timer, not in an activity.
    const due = progress.retrying ? Date.parse(progress.retrying.next_at) - Date.now() : 0;
    if (due > 0) await sleep(due);
  }
  return makeContinueAsNewFunc<typeof taskWebhooksWorkflow>({
    memo: { [MEMO_DELIVERIES]: progress },
  })({ ...input, progress });
}
