import { ApplicationFailure } from '@temporalio/activity';

/** The longest wait a `Retry-After` may ask for; beyond it the usual backoff applies. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * A `Retry-After` header in milliseconds: delay-seconds or an HTTP date. Undefined when
 * absent, unreadable or longer than an hour.
 */
export function retryAfterMs(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const ms = /^\d+(\.\d+)?$/.test(trimmed)
    ? Number(trimmed) * 1000
    : new Date(trimmed).getTime() - now;
  if (!Number.isFinite(ms)) return undefined;
  if (ms > MAX_RETRY_AFTER_MS) return undefined;
  return Math.max(0, Math.ceil(ms));
}

/** Headers as fetch and the OpenAI SDK give them. */
interface HeaderReader {
  get(name: string): string | null;
}

/**
 * The wait a model server asked for before a retry, in milliseconds: `retry-after-ms` (sent by
 * OpenAI and Azure OpenAI) when it is a readable delay of at most an hour, else `Retry-After`.
 * The finer header wins, as in OpenAI's own SDK: a `Retry-After` rounded to whole seconds may be
 * shorter than the wait the server meant.
 */
export function modelServerRetryDelayMs(
  headers: HeaderReader | undefined,
  now = Date.now(),
): number | undefined {
  const ms = headers?.get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms) && Number(ms) <= MAX_RETRY_AFTER_MS) {
    return Math.ceil(Number(ms));
  }
  return retryAfterMs(headers?.get('retry-after'), now);
}

/** Temporal retries the call with its backoff, or after `retryAfter` ms when the server said. */
export const retryable = (message: string, type: string, retryAfter?: number): ApplicationFailure =>
  ApplicationFailure.create({
    message,
    type,
    nonRetryable: false,
    ...(retryAfter !== undefined && { nextRetryDelay: retryAfter }),
  });

/** The task ends FAILED with this message: retrying would get the same answer. */
export const fatal = (message: string, type: string): ApplicationFailure =>
  ApplicationFailure.nonRetryable(message, type);

/** Whether an HTTP status is worth retrying: rate limited or a server-side problem. */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;
