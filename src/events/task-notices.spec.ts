import { TaskChanges } from '../tasks/task-changes';
import { FakeSubscriber, fakeSharedRedis } from '../testing/fake-redis';
import {
  CHANGED_NOTICE,
  STREAMING_NOTICE,
  WRITTEN_NOTICE,
  taskChangedChannel,
} from '../workflows/contract';
import { TaskNotices } from './task-notices';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TaskNotices', () => {
  const subscriber = new FakeSubscriber();
  const published: string[] = [];
  const changes = new TaskChanges();
  const notices = new TaskNotices(fakeSharedRedis(subscriber, published), changes);
  const wakes: string[] = [];
  afterAll(() => notices.onApplicationShutdown());

  it('tells a task once its subscription is active (what changed before is written), then each notice for it, of every kind', async () => {
    subscriber.emit('ready');
    notices.listen('a', (notice) => wakes.push(`a ${notice}`));
    notices.listen('b', (notice) => wakes.push(`b ${notice}`));
    await settle();
    expect(wakes).toEqual(['a written', 'b written']);

    subscriber.emit('message', taskChangedChannel('b'), CHANGED_NOTICE);
    subscriber.emit('message', taskChangedChannel('c'), CHANGED_NOTICE);
    subscriber.emit('message', taskChangedChannel('a'), STREAMING_NOTICE);
    subscriber.emit('message', taskChangedChannel('b'), WRITTEN_NOTICE);
    // Anything else on the channel (a newer sender's kind) is a change.
    subscriber.emit('message', taskChangedChannel('a'), 'something new');
    subscriber.emit('message', taskChangedChannel('b'), 'toString');
    expect(wakes).toEqual([
      'a written',
      'b written',
      'b changed',
      'a streaming',
      'b written',
      'a changed',
      'b changed',
    ]);
  });

  it('tells every task followed when the connection comes back (notices meanwhile were lost), once it is subscribed again', async () => {
    wakes.length = 0;
    subscriber.subscriptions.length = 0;
    subscriber.emit('ready');
    // Not before the subscriptions are active again: a notice in between would be lost.
    expect(wakes).toEqual([]);
    await settle();
    expect(subscriber.subscriptions).toEqual([[taskChangedChannel('a'), taskChangedChannel('b')]]);
    expect(wakes).toEqual(['a written', 'b written']);
  });

  it('tells only the tasks still followed', async () => {
    wakes.length = 0;
    const stop = notices.listen('d', (notice) => wakes.push(`d ${notice}`));
    await settle();
    stop();
    wakes.length = 0;
    subscriber.emit('ready');
    await settle();
    expect(wakes).toEqual(['a written', 'b written']);
  });

  it("publishes this instance's own decisions as written (they are, when announced) and tells its own followers at once", () => {
    wakes.length = 0;
    changes.notify('a');
    expect(wakes).toEqual(['a written']);
    expect(published).toEqual([`${taskChangedChannel('a')} ${WRITTEN_NOTICE}`]);
  });
});
