import { createHash } from 'node:crypto';
import { publicControlState } from '../workflows/contract';
import { type TaskSnapshot, effectiveControl, statusOf } from './task-history';

/**
 * The ETag of a task: a digest of what its status and control-state answers say (run, status,
 * control version and fields), nothing else. Every instance reads the same state from Temporal
 * (and the shared decision ledger), so every instance answers the same tag for it; it changes
 * with the status, with every control change and every change of approvals, not with progress.
 */
export function taskEtag(task: TaskSnapshot): string {
  const control = effectiveControl(task);
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        task.runId,
        statusOf(task),
        control.version,
        publicControlState(control),
        // Tasks with approval gates: control-state also answers the pending approval.
        ...(task.approvals ? [task.approvals.version] : []),
      ]),
    )
    .digest('base64url');
  return `"${digest.slice(0, 27)}"`;
}

/** An `If-Match` header: any current tag (`*`), or the tags one of which must be current. */
export type EntityTagCondition = '*' | readonly string[];

const ENTITY_TAG = /(W\/)?"[^"]*"/g;

/**
 * Parses `If-Match`; undefined when absent. The quoted tags it lists; a value without any is
 * taken as one tag sent without its quotes (a common slip, which then still works). Whatever
 * else it holds cannot name a current tag: the answer is the 412 with the current one.
 */
export function parseIfMatch(header: string | undefined): EntityTagCondition | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return '*';
  return value.match(ENTITY_TAG) ?? [`"${value}"`];
}

/** Whether `etag` satisfies the condition. Weak tags never match (strong comparison). */
export const ifMatchHolds = (condition: EntityTagCondition, etag: string): boolean =>
  condition === '*' || condition.includes(etag);
