import { ConcurrencyLimit } from './concurrency-limit';

/** A promise with its resolve and reject at hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit', () => {
  it('runs at most max operations at once and the rest in the order they came', async () => {
    const limit = new ConcurrencyLimit(2);
    const gates = [0, 1, 2, 3].map(() => deferred());
    const started: number[] = [];
    const results = gates.map((gate, i) =>
      limit.run(async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    await settle();
    expect([started, limit.queued]).toEqual([[0, 1], 2]);

    gates[1].resolve();
    await settle();
    expect([started, limit.queued]).toEqual([[0, 1, 2], 1]);

    gates[0].resolve();
    await settle();
    expect([started, limit.queued]).toEqual([[0, 1, 2, 3], 0]);

    gates[2].resolve();
    gates[3].resolve();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3]);
  });

  it('frees the slot of an operation that fails, and passes its error on', async () => {
    const limit = new ConcurrencyLimit(1);
    const failing = limit.run(() => Promise.reject(new Error('no')));
    const next = limit.run(() => Promise.resolve('next ran'));
    await expect(failing).rejects.toThrow('no');
    expect(await next).toBe('next ran');
    // Nothing left held: a new operation starts at once.
    const started = jest.fn(() => Promise.resolve());
    const again = limit.run(started);
    expect(started).toHaveBeenCalledTimes(1);
    await again;
  });
});
