import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { SharedRedis } from '../redis/shared-redis';

/**
 * A Redis subscriber connection as ioredis drives it, for unit specs: 'ready' on each
 * (re)connect, 'message' for each notice; subscriptions are recorded and confirmed at once.
 */
export class FakeSubscriber extends EventEmitter {
  readonly subscriptions: string[][] = [];

  subscribe(...channels: string[]): Promise<number> {
    this.subscriptions.push(channels);
    return Promise.resolve(channels.length);
  }

  unsubscribe(): Promise<number> {
    return Promise.resolve(0);
  }

  disconnect(): void {}
}

/** A SharedRedis whose client publishes into `published` and subscribes through `subscriber`. */
export function fakeSharedRedis(subscriber: FakeSubscriber, published: string[] = []): SharedRedis {
  const client = {
    duplicate: () => subscriber,
    publish: (channel: string, message: string) => {
      published.push(`${channel} ${message}`);
      return Promise.resolve(1);
    },
  };
  return new SharedRedis(client as unknown as Redis);
}
