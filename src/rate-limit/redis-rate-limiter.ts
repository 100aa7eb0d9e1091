import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { OutageWarning } from '../redis/shared-redis';
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
export class RedisRateLimiter extends RateLimiter {
  private readonly outage = new OutageWarning(
    new Logger(RedisRateLimiter.name),
    'Rate limiting is off',
  );

  constructor(private readonly redis: Redis) {
    super();
  }

  async hit(key: string, windowMs: number, now: number): Promise<WindowCount> {
    try {
      const [count, ttl] = (await this.redis.eval(HIT, 1, `task-api:rate:${key}`, windowMs)) as [
        number,
        number,
      ];
      return { count, resetAt: now + (ttl > 0 ? ttl : windowMs) };
    } catch (err) {
      this.outage.warn(err, now);
      return { count: 0, resetAt: now + windowMs };
    }
  }
}
