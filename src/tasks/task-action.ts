import type { OnTimeout } from '../workflows/contract';

/**
 * The actions a task's audit trail lists. `batch_<action>` is the action applied as one task of
 * a batch; `pause_timeout` a pause deadline that passed (the workflow's own action); `approve`
 * and `reject` a decision on an approval gate (by `system` when the request expired).
 */
export const TASK_ACTION_NAMES = [
  'submit',
  'pause',
  'resume',
  'cancel',
  'pause_timeout',
  'approve',
  'reject',
  'batch_pause',
  'batch_resume',
  'batch_cancel',
] as const;
export type TaskActionName = (typeof TASK_ACTION_NAMES)[number];

/** One accepted action on a task, as its history recorded it with the action itself. */
export interface TaskAction {
  action: TaskActionName;
  /** The principal (`user_id`); `system` for what the workflow did by itself. */
  actor: string;
  /** The API key's name, never the key; "" for system actions. */
  key_name: string;
  reason: string;
  /** RFC 3339. */
  at: string;
  /** The `X-Request-ID` of the request that did it; "" for system actions. */
  request_id: string;
  /** The W3C trace id it ran under; "" for system actions. */
  trace_id: string;
  /** For batch actions: the batch. */
  batch_id?: string;
  /** A decision on an approval gate: which one. */
  approval_id?: string;
  /** A pause with a deadline: its length. */
  timeout_seconds?: number;
  /** A pause with a deadline, and a deadline that passed: the policy. */
  on_timeout?: OnTimeout;
}
