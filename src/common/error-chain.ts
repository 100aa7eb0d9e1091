/**
 * One line for an error and every error it wraps: "ServiceError: Failed to start Workflow <-
 * Error: 3 INVALID_ARGUMENT: ...". The SDK's ServiceError carries no stack of its own and keeps
 * the gRPC status in its cause, so logging only `err.stack` hides what Temporal said.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== undefined && e !== null && !seen.has(e);) {
    seen.add(e);
    if (e instanceof Error) {
      parts.push(`${e.name}: ${e.message}`.replace(/\s*\n\s*/g, ' '));
      e = (e as { cause?: unknown }).cause;
    } else {
      parts.push(typeof e === 'string' ? e : JSON.stringify(e));
      break;
    }
  }
  return parts.join(' <- ');
}
