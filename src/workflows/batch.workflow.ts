import { proxyActivities, upsertMemo } from '@temporalio/workflow';
import type { ControlActivities } from './activity-contract';
import { BATCH_CHUNK_SIZE, BatchCounts, BatchInput, MEMO_BATCH_COUNTS } from './batch-contract';

const { applyBatchAction } = proxyActivities<ControlActivities>({
  // A chunk of tasks, each one decision (a read and a signal).
  startToCloseTimeout: '10 minutes',
  // A chunk whose worker died is taken up again by another within half a minute.
  heartbeatTimeout: '30 seconds',
  // Until Temporal (or Redis) is back: a batch that was accepted is carried out.
  retry: { maximumInterval: '1 minute' },
});

/**
 * Applies one action to the tasks a filter matched, a chunk at a time, each by the same rules
 * as the API's own pause, resume and cancel. The counts so far are kept in the memo, so the
 * batch's state is one describe call away, and the workflow makes the whole batch durable:
 * an API restart never touches it, a worker restart continues it.
 */
export async function taskBatchWorkflow(batch: BatchInput): Promise<BatchCounts> {
  const counts: BatchCounts = {
    matched: batch.task_ids.length,
    succeeded: 0,
    skipped: 0,
    failed: 0,
  };
  for (let start = 0; start < batch.task_ids.length; start += BATCH_CHUNK_SIZE) {
    const chunk = batch.task_ids.slice(start, start + BATCH_CHUNK_SIZE);
    const done = await applyBatchAction({ ...batch, task_ids: chunk });
    counts.succeeded += done.succeeded;
    counts.skipped += done.skipped;
    counts.failed += done.failed;
    upsertMemo({ [MEMO_BATCH_COUNTS]: counts });
  }
  return counts;
}
