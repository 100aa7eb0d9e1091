import type { TaskEvent } from '../tasks/task-event';

/** What a webhook POST carries: one task event, with the stream's data object as `data`. */
export interface WebhookPayload {
  type: TaskEvent['type'];
  task_id: string;
  seq: number;
  timestamp: string;
  data: TaskEvent;
}

/** A message ready to send: its Standard Webhooks id (the same on every retry) and body. */
export interface WebhookMessage {
  id: string;
  body: string;
}

/** The id of a task event's message: unique per task event, so receivers can drop repeats. */
export const webhookMessageId = (taskId: string, seq: number): string => `evt_${taskId}_${seq}`;

export function webhookMessage(taskId: string, event: TaskEvent): WebhookMessage {
  const payload: WebhookPayload = {
    type: event.type,
    task_id: taskId,
    seq: event.seq,
    timestamp: event.timestamp,
    data: event,
  };
  return { id: webhookMessageId(taskId, event.seq), body: JSON.stringify(payload) };
}

/**
 * The wait before attempt `failed + 1` of an event, after `failed` failed attempts: from
 * `initialMs`, doubling, at most `maxMs`, spread by ±20 % so that many deliveries failing
 * together do not all come back at once.
 */
export function retryDelayMs(
  failed: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(failed - 1, 0), 40));
  return Math.min(maxMs, Math.round(base * (0.8 + 0.4 * random())));
}
