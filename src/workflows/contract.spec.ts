import {
  CANCEL_SIGNAL,
  PAUSE_SIGNAL,
  RESUME_SIGNAL,
  applyControlSignal,
  applyPauseTimeout,
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

describe('pause deadlines', () => {
  const pausedWith = (on_timeout?: 'resume' | 'cancel' | 'fail') =>
    applyControlSignal(
      initialControlState(),
      PAUSE_SIGNAL,
      { ...alice, timeout_seconds: 90, ...(on_timeout && { on_timeout }) },
      at,
    );

  it('sets the deadline from the time the pause was accepted, resume by default', () => {
    expect(pausedWith()).toMatchObject({
      is_paused: true,
      paused_at: '2026-01-02T03:04:05.678Z',
      pause_deadline: '2026-01-02T03:05:35.678Z',
      on_timeout: 'resume',
      version: 1,
    });
    expect(applyControlSignal(initialControlState(), PAUSE_SIGNAL, alice, at)).toMatchObject({
      pause_deadline: '',
      on_timeout: '',
    });
  });

  it('is cleared by a resume or a cancel before it', () => {
    expect(applyControlSignal(pausedWith('cancel'), RESUME_SIGNAL, alice, at)).toEqual({
      ...initialControlState(),
      version: 2,
    });
    expect(applyControlSignal(pausedWith('cancel'), CANCEL_SIGNAL, alice, at)).toMatchObject({
      is_cancelled: true,
      pause_deadline: '',
      on_timeout: '',
      was_paused: true,
    });
  });

  it('applies its policy as a change of its own, marked as the deadline', () => {
    expect(applyPauseTimeout(pausedWith('resume'))).toEqual({
      ...initialControlState(),
      version: 2,
      timed_out: 'resume',
    });
    expect(applyPauseTimeout(pausedWith('fail'))).toEqual({
      ...initialControlState(),
      version: 2,
      timed_out: 'fail',
    });
    expect(applyPauseTimeout(pausedWith('cancel'))).toEqual({
      ...initialControlState(),
      is_cancelled: true,
      cancel_reason: 'pause timed out',
      cancelled_by: 'system',
      version: 2,
      was_paused: true,
      timed_out: 'cancel',
    });
  });

  it('changes nothing once the pause is gone or had no deadline, and the next pause clears the mark', () => {
    const plain = applyControlSignal(initialControlState(), PAUSE_SIGNAL, alice, at);
    expect(applyPauseTimeout(plain)).toBe(plain);
    const running = initialControlState();
    expect(applyPauseTimeout(running)).toBe(running);
    const resumed = applyPauseTimeout(pausedWith('resume'));
    expect(applyPauseTimeout(resumed)).toBe(resumed);
    const again = applyControlSignal(resumed, PAUSE_SIGNAL, alice, at);
    expect(again.timed_out).toBeUndefined();
    expect(toControlRecord(JSON.parse(JSON.stringify(resumed)))).toEqual(resumed);
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

  it('keeps who asked (key, request, trace, batch) and a well-formed deadline only', () => {
    const origin = { key_name: 'k', request_id: 'r', trace_id: 't', batch_id: 'b' };
    expect(
      toControlRequest({ ...alice, ...origin, timeout_seconds: 60, on_timeout: 'fail' }),
    ).toEqual({ ...alice, ...origin, timeout_seconds: 60, on_timeout: 'fail' });
    for (const timeout_seconds of [0, 1.5, '60', 604_801]) {
      expect(toControlRequest({ ...alice, timeout_seconds, on_timeout: 'fail' })).toEqual(alice);
    }
    expect(toControlRequest({ ...alice, timeout_seconds: 5, on_timeout: 'later' })).toEqual({
      ...alice,
      timeout_seconds: 5,
    });
    expect(toControlRequest({ ...alice, key_name: 7 })).toEqual(alice);
  });
});
