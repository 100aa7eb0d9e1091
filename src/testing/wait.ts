/**
 * Polls until `probe` returns something other than undefined/false, or fails after the timeout
 * with the description and the last value seen.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    last = value;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${description} (last: ${String(last)})`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
