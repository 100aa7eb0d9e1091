import { Logger, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { RateLimiter, WindowCount } from './rate-limiter';

/** Count and window end in one round trip, atomically, for every instance sharing Redis. */
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
`;

/**
 * Counts shared by all API instances. If Redis cannot be reached the request is let through
 * (and the outage logged): a rate limiter must not take the API down with it.
 */
export class RedisRateLimiter extends RateLimiter implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisRateLimiter.name);
  private lastWarning = 0;

  constructor(private readonly redis: Redis) {
    super();
  }

  /** Loads the Redis client only here: an instance without REDIS_URL never pays for it. */
  static async connect(url: string): Promise<RedisRateLimiter> {
    const { default: Client } = await import('ioredis');
    // Commands wait for the connection, but give up after one reconnect attempt.
    return new RedisRateLimiter(new Client(url, { maxRetriesPerRequest: 1, connectTimeout: 1000 }));
  }

  async hit(key: string, windowMs: number, now: number): Promise<WindowCount> {
    try {
      const [count, ttl] = (await this.redis.eval(HIT, 1, `task-api:rate:${key}`, windowMs)) as [
        number,
        number,
      ];
      return { count, resetAt: now + (ttl > 0 ? ttl : windowMs) };
    } catch (err) {
      if (now - this.lastWarning > 60_000) {
        this.lastWarning = now;
        this.logger.warn(
          `Rate limiting is off while Redis is unreachable: ${(err as Error).message}`,
        );
      }
      return { count: 0, resetAt: now + windowMs };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
