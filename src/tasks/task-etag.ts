import { createHash } from 'node:crypto';
import { InvalidInputError } from '../common/domain-error';
import { publicControlState } from '../workflows/contract';
import { type TaskSnapshot, effectiveControl, statusOf } from './task-history';

/**
 * The ETag of a task: a digest of what its status and control-state answers say (run, status,
 * control version and fields), nothing else. Every instance reads the same state from Temporal
 * (and the shared decision ledger), so every instance answers the same tag for it; it changes
 * with the status and with every control change, not with progress.
 */
export function taskEtag(task: TaskSnapshot): string {
  const control = effectiveControl(task);
  const digest = createHash('sha256')
    .update(
      JSON.stringify([task.runId, statusOf(task), control.version, publicControlState(control)]),
    )
    .digest('base64url');
  return `"${digest.slice(0, 27)}"`;
}

/** An `If-Match` header: any current tag (`*`), or the tags one of which must be current. */
export type EntityTagCondition = '*' | readonly string[];

const ENTITY_TAG_LIST = /^(W\/)?"[\x21\x23-\x7e]*"(\s*,\s*(W\/)?"[\x21\x23-\x7e]*")*$/;
const ENTITY_TAG = /(W\/)?"[\x21\x23-\x7e]*"/g;

/** The pattern an `If-Match` value must have, for the OpenAPI document. */
export const IF_MATCH_PATTERN =
  '^(\\*|(W/)?"[\\x21\\x23-\\x7e]*"(\\s*,\\s*(W/)?"[\\x21\\x23-\\x7e]*")*)$';

/** Parses `If-Match`; undefined when absent. A value that is no list of tags is a 400. */
export function parseIfMatch(header: string | undefined): EntityTagCondition | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return '*';
  if (!ENTITY_TAG_LIST.test(value)) {
    throw new InvalidInputError(
      'Invalid If-Match header: send the ETag exactly as received, quotes included',
    );
  }
  return value.match(ENTITY_TAG) ?? [];
}

/** Whether `etag` satisfies the condition. Weak tags never match (strong comparison). */
export const ifMatchHolds = (condition: EntityTagCondition, etag: string): boolean =>
  condition === '*' || condition.includes(etag);
