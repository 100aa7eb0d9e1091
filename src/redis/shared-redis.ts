import { Global, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

/**
 * The one Redis connection an API instance shares between the parts that coordinate with other
 * instances (rate limits, control decisions), or none without `REDIS_URL`.
 */
export class SharedRedis implements OnApplicationShutdown {
  constructor(readonly client?: Redis) {}

  /** Loads the Redis client only here: an instance without REDIS_URL never pays for it. */
  static async connect(url: string | undefined): Promise<SharedRedis> {
    if (!url) return new SharedRedis();
    const { default: Client } = await import('ioredis');
    // Commands wait for the connection, but give up after one reconnect attempt, so a Redis
    // outage costs a request about a second, never a hang.
    const client = new Client(url, { maxRetriesPerRequest: 1, connectTimeout: 1000 });
    // Without a listener ioredis reports every failed reconnect as an unhandled error.
    client.on('error', () => undefined);
    return new SharedRedis(client);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.quit().catch(() => this.client?.disconnect());
  }
}

/** Rate-limited warnings for a dependency that is down: one a minute, not one per request. */
export class OutageWarning {
  private last = 0;

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  warn(err: unknown, now = Date.now()): void {
    if (now - this.last < 60_000) return;
    this.last = now;
    this.logger.warn(`${this.what} while Redis is unreachable: ${(err as Error).message}`);
  }
}

@Global()
@Module({
  providers: [
    {
      provide: SharedRedis,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => SharedRedis.connect(config.redisUrl),
    },
  ],
  exports: [SharedRedis],
})
export class SharedRedisModule {}
