import type { components } from './schema';

type Schemas = components['schemas'];

/**
 * Every documented error body: `{"error": "..."}`, with `etag` on a 412 (the task's current
 * ETag) and `error_id` on a 500; cancel's 409 is `{"success": false, "message", "status"}`
 * (the state the task is closed in).
 */
export type ApiErrorBody =
  | Schemas['ErrorResponseDto']
  | Schemas['TaskChangedResponseDto']
  | Schemas['TerminalStateResponseDto']
  | Schemas['InternalErrorResponseDto'];

/** A documented error answer (4xx, 5xx): its status and its body. */
export class TaskApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(`${status}: ${'error' in body ? body.error : body.message}`);
    this.name = 'TaskApiError';
  }
}

/** The body of an error answer: the documented JSON, or what a proxy said instead. */
export function errorBody(parsed: unknown, response: Response): ApiErrorBody {
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    (typeof (parsed as { error?: unknown }).error === 'string' ||
      typeof (parsed as { message?: unknown }).message === 'string')
  ) {
    return parsed as ApiErrorBody;
  }
  return { error: typeof parsed === 'string' && parsed ? parsed : response.statusText };
}
