import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutageWarning } from '../redis/shared-redis';
import {
  DECISION_TTL_MS,
  DecisionLedger,
  MemoryDecisionLedger,
  RecentDecision,
} from './decision-ledger';
import { TaskServiceUnavailableError } from './errors';

/** Ends a decision: records it and frees the task, only if this holder still owns the lock. */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
redis.call('DEL', KEYS[1])
return 1
`;

/** A decision holds its task's lock at most this long, should its instance die holding it. */
const LEASE_MS = 15_000;
/** Longest wait for another instance's decision on the same task. */
const WAIT_MS = LEASE_MS + 5_000;

const lockKey = (taskId: string) => `task-api:decision-lock:${taskId}`;
const decisionKey = (taskId: string) => `task-api:decision:${taskId}`;

/**
 * Decisions shared by every API instance through Redis: a lock per task (SET NX with a lease)
 * and the last decision, written when the lock is released. Within one instance decisions on a
 * task queue up in process first, so each instance has at most one of them waiting on Redis.
 *
 * If Redis cannot be reached, decisions fall back to this instance's own order and record (the
 * outage is logged): exact within the instance, as without REDIS_URL, and never unavailable.
 */
export class RedisDecisionLedger extends DecisionLedger {
  private readonly local = new MemoryDecisionLedger();
  private readonly outage = new OutageWarning(
    new Logger(RedisDecisionLedger.name),
    'Control decisions are exact only within each instance',
  );

  constructor(private readonly redis: Redis) {
    super();
  }

  exclusive<T>(
    taskId: string,
    decide: (recent: RecentDecision | undefined) => Promise<[T, RecentDecision?]>,
  ): Promise<T> {
    return this.local.local(taskId, async () => {
      const token = randomUUID();
      let recent: RecentDecision | undefined;
      try {
        await this.lock(taskId, token);
        recent = parse(await this.redis.get(decisionKey(taskId)));
      } catch (err) {
        if (err instanceof TaskServiceUnavailableError) throw err;
        this.outage.warn(err);
        const [value, decision] = await decide(await this.local.recent(taskId));
        if (decision) this.local.record(taskId, decision);
        return value;
      }
      let decision: RecentDecision | undefined;
      try {
        const [value, decided] = await decide(recent);
        decision = decided;
        return value;
      } finally {
        await this.release(taskId, token, decision);
      }
    });
  }

  async recent(taskId: string): Promise<RecentDecision | undefined> {
    try {
      return parse(await this.redis.get(decisionKey(taskId)));
    } catch (err) {
      this.outage.warn(err);
      return this.local.recent(taskId);
    }
  }

  private async lock(taskId: string, token: string): Promise<void> {
    const giveUpAt = Date.now() + WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      if ((await this.redis.set(lockKey(taskId), token, 'PX', LEASE_MS, 'NX')) === 'OK') return;
      if (Date.now() > giveUpAt) throw new TaskServiceUnavailableError();
      // Another instance decides on this task: its decision takes milliseconds.
      await sleep(Math.min(2 ** attempt, 20) * (0.5 + Math.random()));
    }
  }

  private async release(
    taskId: string,
    token: string,
    decision: RecentDecision | undefined,
  ): Promise<void> {
    if (decision) this.local.record(taskId, decision);
    try {
      await this.redis.eval(
        RELEASE,
        2,
        lockKey(taskId),
        decisionKey(taskId),
        token,
        decision ? JSON.stringify(decision) : '',
        DECISION_TTL_MS,
      );
    } catch (err) {
      // The lease ends the lock by itself; the decision stays in this instance's record.
      this.outage.warn(err);
    }
  }
}

function parse(value: string | null): RecentDecision | undefined {
  return value ? (JSON.parse(value) as RecentDecision) : undefined;
}
