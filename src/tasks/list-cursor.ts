import { createHash } from 'node:crypto';
import type { ListPosition } from './list-window';

/**
 * The `cursor` of the task list: where the previous page ended, for which tenant and filters,
 * and how wide a window the next page is likely to need.
 *
 * Opaque to clients, but not secret and not a credential: it only ever addresses the tasks of
 * the caller's own tenant, with the caller's own filters. The tenant and filters are inside and
 * must match the request; a checksum catches a cursor that was cut short or edited.
 */
export interface ListCursor {
  tenantId: string;
  /** The filters of the list the cursor walks (`status`, `session_id`), as given. */
  filters: ListFilters;
  after: ListPosition;
  /** Window width for the next page, ns. */
  hintNs?: bigint;
}

export interface ListFilters {
  status?: string;
  sessionId?: string;
}

export class InvalidCursorError extends Error {}

const VERSION = 1;
const CHECKSUM_BYTES = 12;
/** Digits only: execution times and widths in nanoseconds. */
const NANOS = /^(0|[1-9]\d{0,20})$/;

const checksum = (body: string): string =>
  createHash('sha256')
    .update(`task-list-cursor\n${body}`)
    .digest()
    .subarray(0, CHECKSUM_BYTES)
    .toString('base64url');

export function encodeCursor(cursor: ListCursor): string {
  const body = Buffer.from(
    JSON.stringify([
      VERSION,
      cursor.tenantId,
      cursor.filters.status ?? null,
      cursor.filters.sessionId ?? null,
      cursor.after.at.toString(),
      cursor.after.taskId,
      cursor.hintNs?.toString() ?? null,
    ]),
  ).toString('base64url');
  return `${body}.${checksum(body)}`;
}

const isStringOrNull = (value: unknown): value is string | null =>
  value === null || typeof value === 'string';

/** The cursor `text` stands for; throws InvalidCursorError for anything else. */
export function decodeCursor(text: string): ListCursor {
  const [body, sum, ...rest] = text.split('.');
  if (!body || !sum || rest.length > 0 || sum !== checksum(body)) {
    throw new InvalidCursorError('checksum');
  }
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not JSON');
  }
  if (!Array.isArray(fields) || fields.length !== 7) throw new InvalidCursorError('shape');
  const [version, tenantId, status, sessionId, at, taskId, hint] = fields as unknown[];
  if (
    version !== VERSION ||
    typeof tenantId !== 'string' ||
    !isStringOrNull(status) ||
    !isStringOrNull(sessionId) ||
    typeof at !== 'string' ||
    !NANOS.test(at) ||
    typeof taskId !== 'string' ||
    taskId.length === 0 ||
    !(hint === null || (typeof hint === 'string' && NANOS.test(hint)))
  ) {
    throw new InvalidCursorError('fields');
  }
  return {
    tenantId,
    filters: { status: status ?? undefined, sessionId: sessionId ?? undefined },
    after: { at: BigInt(at), taskId },
    hintNs: hint === null ? undefined : BigInt(hint),
  };
}
