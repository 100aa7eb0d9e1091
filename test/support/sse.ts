/** A minimal Server-Sent Events client over fetch, for asserting exactly what a stream sends. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export class SseStream {
  readonly received: SseEvent[] = [];
  private buffer = '';
  private ended = false;
  private failure?: Error;
  private wake?: () => void;

  private constructor(
    readonly status: number,
    readonly headers: Headers,
    private readonly abort: AbortController,
  ) {}

  /** Opens the stream; a non-stream answer (JSON error) is kept in `errorBody`. */
  static async open(
    url: string,
    headers: Record<string, string> = {},
  ): Promise<SseStream & { errorBody?: unknown }> {
    const abort = new AbortController();
    const response = await fetch(url, { headers, signal: abort.signal });
    const stream = new SseStream(response.status, response.headers, abort) as SseStream & {
      errorBody?: unknown;
    };
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
      stream.errorBody = await response.json();
      stream.ended = true;
      return stream;
    }
    void stream.read(response.body!);
    return stream;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          const event: SseEvent = { event: 'message', data: '' };
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const [field, ...rest] = line.split(': ');
            const value = rest.join(': ');
            if (field === 'id') event.id = value;
            else if (field === 'event') event.event = value;
            else if (field === 'data') event.data = value;
            isEvent = true;
          }
          if (isEvent) this.received.push(event);
        }
        this.wake?.();
      }
    } catch (err) {
      if (!this.abort.signal.aborted)
        this.failure = err instanceof Error ? err : new Error(String(err));
    } finally {
      this.ended = true;
      this.wake?.();
    }
  }

  /** Task events received so far, parsed (everything but `done`). */
  get events(): any[] {
    return this.received.filter((e) => e.event !== 'done').map((e) => JSON.parse(e.data));
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Resolves once an event matches, or fails after the timeout. */
  async waitForEvent(predicate: (e: SseEvent) => boolean, timeoutMs = 30_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      if (this.failure) throw this.failure;
      if (this.ended)
        throw new Error(
          `stream ended without the awaited event; got ${JSON.stringify(this.received.map((e) => e.event))}`,
        );
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out; got ${JSON.stringify(this.received.map((e) => e.event))}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, Math.min(left, 500));
      });
    }
  }

  /** Resolves once the server has ended the stream. */
  async waitForEnd(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    if (this.failure) throw this.failure;
  }

  close(): void {
    this.abort.abort();
  }
}

/**
 * A client that reads a task's stream to its end as a careful browser would: whenever the
 * stream ends without `done` (a restart, a lost instance, an outage) it connects again with the
 * last event id it saw, until `done` arrives. Every event it received, across connections.
 */
export async function followToDone(
  url: string,
  headers: Record<string, string>,
  timeoutMs = 90_000,
): Promise<{ received: SseEvent[]; connections: number }> {
  const deadline = Date.now() + timeoutMs;
  const received: SseEvent[] = [];
  let connections = 0;
  while (Date.now() < deadline) {
    const last = received.filter((e) => e.id !== undefined).at(-1)?.id;
    const stream = await SseStream.open(url, {
      ...headers,
      ...(last ? { 'Last-Event-ID': last } : {}),
    }).catch(() => undefined);
    if (stream && stream.errorBody === undefined) {
      connections++;
      await stream.waitForEnd(deadline - Date.now()).catch(() => undefined);
      received.push(...stream.received);
      if (received.some((e) => e.event === 'done')) return { received, connections };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no done within ${timeoutMs} ms; got ${received.map((e) => e.id).join(',')}`);
}
