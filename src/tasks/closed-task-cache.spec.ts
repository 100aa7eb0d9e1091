import { taskSnapshot } from '../testing/task-snapshot';
import { ClosedTaskCache } from './closed-task-cache';

const closed = (taskId: string, runId = 'run', result = '') =>
  taskSnapshot({ taskId, runId, result, terminal: 'COMPLETED' });

describe('ClosedTaskCache', () => {
  it('answers only for the run it was read from', () => {
    const cache = new ClosedTaskCache();
    const task = closed('a', 'run-1');
    cache.set('a', task);

    expect(cache.get('a', 'run-1')).toBe(task);
    expect(cache.get('a', 'run-2')).toBeUndefined();
    expect(cache.get('b', 'run-1')).toBeUndefined();
  });

  it('keeps the newest run of a task only', () => {
    const cache = new ClosedTaskCache();
    cache.set('a', closed('a', 'run-1'));
    const reset = closed('a', 'run-2', 'done');
    cache.set('a', reset);

    expect(cache.size).toBe(1);
    expect(cache.get('a', 'run-1')).toBeUndefined();
    expect(cache.get('a', 'run-2')).toBe(reset);
  });

  it('drops the least recently used snapshots when over its memory bound', () => {
    // Each small snapshot counts about 1 KiB: room for three.
    const cache = new ClosedTaskCache(3 * 1024 + 100, Infinity);
    for (const id of ['a', 'b', 'c']) cache.set(id, closed(id));
    cache.get('a', 'run'); // a is now the most recently used
    cache.set('d', closed('d'));

    expect(cache.get('b', 'run')).toBeUndefined();
    expect(['a', 'c', 'd'].map((id) => cache.get(id, 'run')?.taskId)).toEqual(['a', 'c', 'd']);
  });

  it('does not keep a snapshot too large to be worth its room', () => {
    const cache = new ClosedTaskCache(64 * 1024, 4 * 1024);
    cache.set('big', closed('big', 'run', 'x'.repeat(4 * 1024)));
    cache.set('small', closed('small'));

    expect(cache.get('big', 'run')).toBeUndefined();
    expect(cache.get('small', 'run')?.taskId).toBe('small');
  });
});
