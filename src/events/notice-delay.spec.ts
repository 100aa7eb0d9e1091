import { NoticeDelay } from './notice-delay';

/**
 * Makes `reads` first reads, each finding the change when Temporal wrote it by then; the share
 * of them that found it.
 */
function firstReads(delay: NoticeDelay, writtenAfter: () => number, reads = 2000): number {
  let found = 0;
  for (let i = 0; i < reads; i++) {
    const write = writtenAfter() <= delay.current;
    if (write) found++;
    delay.firstRead(write);
  }
  return found / reads;
}

describe('NoticeDelay', () => {
  it('starts at 20 ms', () => {
    expect(new NoticeDelay().current).toBe(20);
  });

  it('settles where about four first reads in five find the change', () => {
    const delay = new NoticeDelay();
    // Temporal writes 10 to 110 ms after the notice, spread evenly (a fixed sequence).
    let i = 0;
    const lags = () => 10 + ((i++ * 37) % 101);
    firstReads(delay, lags, 200);
    const found = firstReads(delay, lags);
    expect([found, found > 0.7 && found < 0.9]).toEqual([found, true]);
    // Near the 80th percentile (90 ms), give or take the steps it moves by.
    expect([delay.current, delay.current > 60 && delay.current < 140]).toEqual([
      delay.current,
      true,
    ]);
  });

  it('follows Temporal down when it writes at once, and up to 1 s when it is slow', () => {
    const delay = new NoticeDelay();
    expect(firstReads(delay, () => 0)).toBeGreaterThan(0.99);
    expect(delay.current).toBe(2);
    expect(firstReads(delay, () => 5000)).toBe(0);
    expect(delay.current).toBe(1000);
  });
});
