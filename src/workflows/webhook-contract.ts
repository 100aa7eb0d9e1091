/**
 * The Temporal contract of task webhooks: what a task asks for, the delivery workflow that the
 * task starts as its child, and the progress of its deliveries as the worker records it (memo,
 * heartbeats) and the API reads it. Bundled into the workflow sandbox: no Node built-ins.
 */

/** A task's webhook, as submitted: every task event whose type is in `events` goes to `url`. */
export interface WebhookSpec {
  url: string;
  /** Event types to send, resolved at submit (the default leaves PROGRESS out). */
  events: string[];
}

/** A webhook read back from a task's memo; undefined when there is none. */
export function toWebhookSpec(value: unknown): WebhookSpec | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { url, events } = value as Partial<WebhookSpec>;
  if (typeof url !== 'string' || !Array.isArray(events)) return undefined;
  return { url, events: events.filter((e): e is string => typeof e === 'string') };
}

export const TASK_WEBHOOKS_WORKFLOW_TYPE = 'taskWebhooksWorkflow';

/**
 * The delivery workflow of a task: the task's ID with a suffix no task ID can have (`/` is not
 * in their alphabet), so nobody can address it through the task routes, and the API finds it
 * from the task ID alone.
 */
export const webhookWorkflowId = (taskId: string): string => `${taskId}/webhooks`;

/** Delivery activities run on their own task queue, so they never take a task's activity slot. */
export const webhookTaskQueue = (taskQueue: string): string => `${taskQueue}-webhooks`;

/** An event being retried: the first failed attempt, how many failed, when the next is due. */
export interface RetryingDelivery {
  seq: number;
  /** RFC 3339. */
  since: string;
  attempts: number;
  /** RFC 3339. */
  next_at: string;
}

/**
 * Where the deliveries of a task stand. Kept in the delivery activity's heartbeats (a retried
 * attempt resumes from them), returned at the end of each session and kept in the delivery
 * workflow's memo: the API reads `failures` from there.
 */
export interface DeliveryProgress {
  /** Every event up to this `seq` is done: delivered, not wanted (`events`), or given up. */
  seq: number;
  /** Failed delivery attempts so far (non-2xx answers, network errors, refused targets). */
  failures: number;
  /** Events given up after the retry window. */
  given_up: number;
  retrying?: RetryingDelivery;
}

export const initialDeliveryProgress = (): DeliveryProgress => ({
  seq: 0,
  failures: 0,
  given_up: 0,
});

/** The delivery workflow's input. */
export interface TaskWebhooksInput {
  task_id: string;
  /** The task's run: events are the ones of its history. */
  run_id: string;
  webhook: WebhookSpec;
  /** Carried over by continue-as-new; absent at first. */
  progress?: DeliveryProgress;
}

/** One session of the delivery activity: it follows the task and delivers its events. */
export interface DeliverySessionInput extends Omit<TaskWebhooksInput, 'progress'> {
  progress: DeliveryProgress;
}

export interface DeliverySessionResult {
  progress: DeliveryProgress;
  /** The task is closed and every one of its events is done. */
  done: boolean;
}

export interface WebhookActivities {
  deliverTaskWebhooks(input: DeliverySessionInput): Promise<DeliverySessionResult>;
}

/** Memo key of the delivery workflow: its DeliveryProgress as of the last session. */
export const MEMO_DELIVERIES = 'deliveries';

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;

/** A progress read back from a memo or heartbeat; undefined when it is not one. */
export function toDeliveryProgress(value: unknown): DeliveryProgress | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.seq !== 'number') return undefined;
  const progress: DeliveryProgress = {
    seq: count(v.seq),
    failures: count(v.failures),
    given_up: count(v.given_up),
  };
  const r = v.retrying as Partial<RetryingDelivery> | undefined;
  if (
    r &&
    typeof r.seq === 'number' &&
    typeof r.since === 'string' &&
    typeof r.attempts === 'number' &&
    typeof r.next_at === 'string'
  ) {
    progress.retrying = { seq: r.seq, since: r.since, attempts: r.attempts, next_at: r.next_at };
  }
  return progress;
}
