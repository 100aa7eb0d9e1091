/**
 * A real HTTP server on loopback that records every request it gets (method, path, headers,
 * raw body, when it arrived, whether the caller hung up before the answer) and answers with a
 * handler the test gives. Used as the team's own service (http executor) and as the stand-in
 * for a chat completions server (openai executor).
 */
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The raw body, exactly as sent. */
  body: string;
  /** Parsed when the body is JSON. */
  json: any;
  receivedAt: number;
  /** Set when the caller closed the connection before the answer was complete. */
  abortedAt?: number;
}

export type Handler = (request: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export class RecordingServer {
  readonly requests: RecordedRequest[] = [];
  private readonly open = new Set<ServerResponse>();

  private readonly server: Server;
  url = '';

  private constructor(handler: Handler) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          json,
          receivedAt: Date.now(),
        };
        this.requests.push(recorded);
        this.open.add(res);
        res.on('close', () => {
          this.open.delete(res);
          if (!res.writableFinished) recorded.abortedAt = Date.now();
        });
        Promise.resolve(handler(recorded, res)).catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(599);
          res.end(String(err));
        });
      });
    });
  }

  /** Listens on `port` when given (one a caller was told to use before anything listened). */
  static async start(handler: Handler, port = 0): Promise<RecordingServer> {
    const self = new RecordingServer(handler);
    await new Promise<void>((resolve, reject) => {
      self.server.once('error', reject);
      self.server.listen(port, '127.0.0.1', resolve);
    });
    self.url = `http://127.0.0.1:${(self.server.address() as AddressInfo).port}`;
    return self;
  }

  /** Requests whose path and JSON body match. */
  matching(path: string, predicate: (json: any) => boolean = () => true): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && predicate(r.json));
  }

  /** Resolves with the first request that matches, once it has arrived. */
  waitForRequest(
    description: string,
    path: string,
    predicate: (json: any) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<RecordedRequest> {
    return waitFor(description, () => this.matching(path, predicate)[0], timeoutMs);
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export const sendJson = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
};
