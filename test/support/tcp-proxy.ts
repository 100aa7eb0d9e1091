import { type Socket, createConnection, createServer } from 'node:net';

/**
 * A TCP proxy in front of an API, so a test can cut a client's connections as a network (or a
 * load balancer going away) would: both sockets destroyed, no HTTP goodbye.
 */
export class TcpProxy {
  /** The head of each HTTP request that went through, in order. */
  readonly requestHeads: string[] = [];
  private readonly open = new Set<Socket>();
  private readonly server = createServer((client) => this.relay(client));
  private port = 0;

  private constructor(private readonly target: URL) {}

  static async start(target: string): Promise<TcpProxy> {
    const proxy = new TcpProxy(new URL(target));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Destroys every open connection, both ways. */
  cut(): void {
    for (const socket of this.open) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    const upstream = createConnection({
      host: this.target.hostname,
      port: Number(this.target.port),
    });
    client.on('data', (chunk: Buffer) => {
      // Heads are small: each comes in one chunk, which starts with the request line.
      const text = chunk.toString('latin1');
      if (/^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(text)) {
        this.requestHeads.push(text.split('\r\n\r\n')[0]);
      }
    });
    for (const socket of [client, upstream]) {
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
