import { taskSnapshot } from '../../test/support/task-snapshot';
import { SnapshotCache } from './snapshot-cache';

const snapshot = (taskId: string, result = '') => taskSnapshot({ taskId, result });

const settled = (runId: string, length: number) => ({ runId, length, settled: true });

describe('SnapshotCache', () => {
  it('answers only for the exact run and length it was folded from, and only when settled', () => {
    const cache = new SnapshotCache();
    const task = snapshot('a');
    cache.set('a', 'run-1', 7, task);

    expect(cache.get('a', settled('run-1', 7))).toBe(task);
    expect(cache.get('a', settled('run-1', 8))).toBeUndefined();
    expect(cache.get('a', settled('run-2', 7))).toBeUndefined();
    expect(cache.get('a', { runId: 'run-1', length: 7, settled: false })).toBeUndefined();
    expect(cache.get('b', settled('run-1', 7))).toBeUndefined();
  });

  it('keeps the newest version of a task only', () => {
    const cache = new SnapshotCache();
    cache.set('a', 'run-1', 7, snapshot('a'));
    const newer = snapshot('a', 'done');
    cache.set('a', 'run-1', 9, newer);

    expect(cache.size).toBe(1);
    expect(cache.get('a', settled('run-1', 7))).toBeUndefined();
    expect(cache.get('a', settled('run-1', 9))).toBe(newer);
  });

  it('drops the least recently used snapshots when over its memory bound', () => {
    // Each small snapshot counts about 1 KiB: room for three.
    const cache = new SnapshotCache(3 * 1024 + 100, Infinity);
    for (const id of ['a', 'b', 'c']) cache.set(id, 'run', 1, snapshot(id));
    cache.get('a', settled('run', 1)); // a is now the most recently used
    cache.set('d', 'run', 1, snapshot('d'));

    expect(cache.get('b', settled('run', 1))).toBeUndefined();
    expect(['a', 'c', 'd'].map((id) => cache.get(id, settled('run', 1))?.taskId)).toEqual([
      'a',
      'c',
      'd',
    ]);
  });

  it('does not keep a snapshot too large to be worth its room', () => {
    const cache = new SnapshotCache(64 * 1024, 4 * 1024);
    cache.set('big', 'run', 1, snapshot('big', 'x'.repeat(4 * 1024)));
    cache.set('small', 'run', 1, snapshot('small'));

    expect(cache.get('big', settled('run', 1))).toBeUndefined();
    expect(cache.get('small', settled('run', 1))?.taskId).toBe('small');
  });
});
