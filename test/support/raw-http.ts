/** HTTP at the byte level, for what fetch will not send: broken requests, partial requests. */
import { Socket, connect } from 'node:net';

export interface RawExchange {
  /** Everything the server sent. */
  text: string;
  /** Status of the (first) answer, 0 if none. */
  status: number;
  /** The JSON body of the first answer, when it has one. */
  body: unknown;
  /** How the conversation ended: the server closed it, or we gave up waiting. */
  end: 'closed' | 'reset' | 'timeout';
}

function parse(text: string): Pick<RawExchange, 'status' | 'body'> {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const blank = text.indexOf('\r\n\r\n');
  let body: unknown;
  if (blank >= 0) {
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, blank))?.[1] ?? -1);
    const raw = text.slice(blank + 4, length >= 0 ? blank + 4 + length : undefined);
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
  }
  return { status, body };
}

/** An open connection to a server: send bytes, read what comes back, see whether it closes. */
export class RawConnection {
  private received = '';
  private ended?: 'closed' | 'reset';
  private wake?: () => void;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.received += chunk;
      this.wake?.();
    });
    socket.on('end', () => this.finish('closed'));
    socket.on('close', () => this.finish('closed'));
    socket.on('error', () => this.finish('reset'));
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  private finish(how: 'closed' | 'reset'): void {
    this.ended ??= how;
    this.wake?.();
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  get isClosed(): boolean {
    return this.ended !== undefined;
  }

  /** Waits until `done` holds for what was received, the server closes, or the timeout. */
  async until(done: (received: string) => boolean, timeoutMs: number): Promise<RawExchange> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received) && this.ended === undefined && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return {
      text: this.received,
      ...parse(this.received),
      end: this.ended ?? 'timeout',
    };
  }

  /** Waits for the server to close the connection (or the timeout). */
  closed(timeoutMs: number): Promise<RawExchange> {
    return this.until(() => false, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends `bytes` on a new connection and returns all the server answers until it closes. */
export async function rawExchange(
  port: number,
  bytes: string | Buffer,
  { host = '127.0.0.1', timeoutMs = 10_000 }: { host?: string; timeoutMs?: number } = {},
): Promise<RawExchange> {
  const connection = await RawConnection.open(port, host);
  try {
    connection.send(bytes);
    return await connection.closed(timeoutMs);
  } finally {
    connection.destroy();
  }
}
