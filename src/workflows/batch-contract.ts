/**
 * The Temporal contract of bulk control: the batch workflow's type, input, memo and result,
 * shared by the API (which starts batches and reads them) and the worker (which runs them).
 */
export const BATCH_WORKFLOW_TYPE = 'taskBatchWorkflow';

export const BATCH_ACTIONS = ['pause', 'resume', 'cancel'] as const;
export type BatchAction = (typeof BATCH_ACTIONS)[number];

/** A batch: one action, for these tasks of one tenant, asked for by one request. */
export interface BatchInput {
  batch_id: string;
  tenant_id: string;
  action: BatchAction;
  reason: string;
  /** Who asked: the principal (`user_id`), the key's name, the request, its trace. */
  actor: string;
  key_name: string;
  request_id: string;
  trace_id: string;
  /** RFC 3339: when the API accepted the batch (no task of it was touched before). */
  accepted_at: string;
  /** The tasks the filter matched when the batch was accepted. */
  task_ids: string[];
}

/** How a batch stands: `matched` tasks, each counted once it is done as one of the other three. */
export interface BatchCounts {
  matched: number;
  /** The action was applied. */
  succeeded: number;
  /** The action did not apply (resume of a running task, anything on a closed one). */
  skipped: number;
  /** Applying it failed for a reason that retrying would not change. */
  failed: number;
}

export type BatchOutcome = Exclude<keyof BatchCounts, 'matched'>;

/** Memo keys: what the API wrote at start, and the counts the workflow keeps up to date. */
export const MEMO_BATCH = 'batch';
export const MEMO_BATCH_COUNTS = 'counts';

/** What the start memo records about a batch (its input holds the rest). */
export interface BatchRecord {
  tenant_id: string;
  action: BatchAction;
}

/** Tasks given to one activity: its counts are recorded when it ends. */
export const BATCH_CHUNK_SIZE = 100;
