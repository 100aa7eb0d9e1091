import { taskSnapshot } from '../testing/task-snapshot';
import { initialControlState } from '../workflows/contract';
import { ifMatchHolds, parseIfMatch, taskEtag } from './task-etag';

describe('taskEtag', () => {
  const paused = { ...initialControlState(), is_paused: true, paused_by: 'u', version: 1 };

  it('depends on the run, status and control only: not on progress or times', () => {
    const tag = taskEtag(taskSnapshot());
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(
      taskEtag(
        taskSnapshot({
          updatedAt: new Date('2026-02-02T00:00:00Z'),
          progress: {
            checkpoint: 'pre_step_2',
            steps_done: 1,
            steps_total: 3,
            waiting: false,
            cancelled: false,
          },
        }),
      ),
    ).toBe(tag);
    const changed = [
      taskSnapshot({ runId: 'run-2' }),
      taskSnapshot({ started: false }),
      taskSnapshot({ control: paused }),
      taskSnapshot({ control: { ...paused, pause_reason: 'other' } }),
      taskSnapshot({ control: { ...initialControlState(), version: 2 } }),
      taskSnapshot({ terminal: 'COMPLETED' }),
    ].map(taskEtag);
    expect(new Set([tag, ...changed]).size).toBe(changed.length + 1);
  });

  it('reads a closed task as its answers do: a pause pending at the end is not a pause', () => {
    expect(taskEtag(taskSnapshot({ terminal: 'FAILED', control: paused }))).toBe(
      taskEtag(
        taskSnapshot({ terminal: 'FAILED', control: { ...initialControlState(), version: 1 } }),
      ),
    );
  });
});

describe('If-Match', () => {
  it('takes `*` and lists of tags, compared strongly', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch(' * ')).toBe('*');
    expect(parseIfMatch('"a", W/"b" ,"c"')).toEqual(['"a"', 'W/"b"', '"c"']);
    expect(ifMatchHolds('*', '"x"')).toBe(true);
    expect(ifMatchHolds(['"a"', '"x"'], '"x"')).toBe(true);
    expect(ifMatchHolds(['W/"x"'], '"x"')).toBe(false);
  });

  it('takes a value without quoted tags as one tag sent without its quotes', () => {
    expect(parseIfMatch('abc')).toEqual(['"abc"']);
    expect(parseIfMatch(' 0 ')).toEqual(['"0"']);
    expect(parseIfMatch('"a')).toEqual(['""a"']);
    expect(ifMatchHolds(parseIfMatch('x')!, '"x"')).toBe(true);
  });
});
