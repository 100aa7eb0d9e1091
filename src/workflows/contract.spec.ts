import {
  CANCEL_SIGNAL,
  PAUSE_SIGNAL,
  RESUME_SIGNAL,
  applyControlSignal,
  initialControlState,
  requestTime,
  toControlRecord,
  toControlRequest,
} from './contract';

const at = new Date('2026-01-02T03:04:05.678Z');
const alice = { reason: 'why', requested_by: 'alice' };

describe('applyControlSignal', () => {
  it('records who paused, when and why', () => {
    expect(applyControlSignal(initialControlState(), PAUSE_SIGNAL, alice, at)).toEqual({
      ...initialControlState(),
      is_paused: true,
      paused_at: '2026-01-02T03:04:05.678Z',
      pause_reason: 'why',
      paused_by: 'alice',
      version: 1,
    });
  });

  it('ignores a second pause, keeping the first one', () => {
    const paused = applyControlSignal(initialControlState(), PAUSE_SIGNAL, alice, at);
    expect(
      applyControlSignal(
        paused,
        PAUSE_SIGNAL,
        { reason: 'again', requested_by: 'bob' },
        new Date(),
      ),
    ).toBe(paused);
  });

  it('clears the pause on resume, and ignores a resume when not paused', () => {
    const paused = applyControlSignal(initialControlState(), PAUSE_SIGNAL, alice, at);
    expect(applyControlSignal(paused, RESUME_SIGNAL, alice, at)).toEqual({
      ...initialControlState(),
      version: 2,
    });
    const running = initialControlState();
    expect(applyControlSignal(running, RESUME_SIGNAL, alice, at)).toBe(running);
  });

  it('cancel ends the pause, and nothing changes the state after it', () => {
    const paused = applyControlSignal(initialControlState(), PAUSE_SIGNAL, alice, at);
    const cancelled = applyControlSignal(
      paused,
      CANCEL_SIGNAL,
      { reason: 'stop', requested_by: 'bob' },
      at,
    );
    expect(cancelled).toEqual({
      ...initialControlState(),
      is_cancelled: true,
      cancel_reason: 'stop',
      cancelled_by: 'bob',
      version: 2,
      was_paused: true,
    });
    for (const signal of [PAUSE_SIGNAL, RESUME_SIGNAL, CANCEL_SIGNAL] as const) {
      expect(applyControlSignal(cancelled, signal, alice, at)).toBe(cancelled);
    }
  });
});

describe('requestTime', () => {
  it("takes the request's own time when well-formed, the fallback otherwise", () => {
    const fallback = new Date('2026-05-06T07:08:09.000Z');
    expect(requestTime({ ...alice, requested_at: at.toISOString() }, fallback)).toEqual(at);
    expect(requestTime({ ...alice, requested_at: 'yesterday' }, fallback)).toBe(fallback);
    expect(requestTime(alice, fallback)).toBe(fallback);
  });
});

describe('toControlRecord', () => {
  it('reads a versioned record and refuses the unversioned memo of older tasks', () => {
    const paused = applyControlSignal(initialControlState(), PAUSE_SIGNAL, alice, at);
    expect(toControlRecord(JSON.parse(JSON.stringify(paused)))).toEqual(paused);
    expect(toControlRecord({ is_paused: true })).toBeUndefined();
    expect(toControlRecord('x')).toBeUndefined();
  });
});

describe('toControlRequest', () => {
  it('keeps string fields and blanks anything else', () => {
    expect(toControlRequest({ reason: 'r', requested_by: 'u' })).toEqual({
      reason: 'r',
      requested_by: 'u',
    });
    expect(toControlRequest({ reason: 5 })).toEqual({ reason: '', requested_by: '' });
    expect(toControlRequest(null)).toEqual({ reason: '', requested_by: '' });
  });
});
