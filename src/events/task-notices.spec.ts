import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { SharedRedis } from '../redis/shared-redis';
import { TaskChanges } from '../tasks/task-changes';
import { taskChangedChannel } from '../workflows/contract';
import { TaskNotices } from './task-notices';

/** The subscriber connection as ioredis drives it: 'ready' on each (re)connect, then messages. */
class FakeSubscriber extends EventEmitter {
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

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TaskNotices', () => {
  const subscriber = new FakeSubscriber();
  const published: string[] = [];
  const client = {
    duplicate: () => subscriber,
    publish: (channel: string) => {
      published.push(channel);
      return Promise.resolve(1);
    },
  };
  const changes = new TaskChanges();
  const notices = new TaskNotices(new SharedRedis(client as unknown as Redis), changes);
  const wakes: string[] = [];
  afterAll(() => notices.onApplicationShutdown());

  it('tells a task once its subscription is active, then on each notice for it', async () => {
    subscriber.emit('ready');
    notices.listen('a', () => wakes.push('a'));
    notices.listen('b', () => wakes.push('b'));
    await settle();
    expect(wakes).toEqual(['a', 'b']);

    subscriber.emit('message', taskChangedChannel('b'), '1');
    subscriber.emit('message', taskChangedChannel('c'), '1');
    expect(wakes).toEqual(['a', 'b', 'b']);
  });

  it('tells every task followed when the connection comes back (notices meanwhile were lost), once it is subscribed again', async () => {
    wakes.length = 0;
    subscriber.subscriptions.length = 0;
    subscriber.emit('ready');
    // Not before the subscriptions are active again: a notice in between would be lost.
    expect(wakes).toEqual([]);
    await settle();
    expect(subscriber.subscriptions).toEqual([[taskChangedChannel('a'), taskChangedChannel('b')]]);
    expect(wakes).toEqual(['a', 'b']);
  });

  it('tells only the tasks still followed', async () => {
    wakes.length = 0;
    const stop = notices.listen('d', () => wakes.push('d'));
    await settle();
    stop();
    wakes.length = 0;
    subscriber.emit('ready');
    await settle();
    expect(wakes).toEqual(['a', 'b']);
  });

  it("publishes this instance's own decisions and tells its own followers at once", () => {
    wakes.length = 0;
    changes.notify('a');
    expect(wakes).toEqual(['a']);
    expect(published).toEqual([taskChangedChannel('a')]);
  });
});
