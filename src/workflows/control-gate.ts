import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  sleep,
} from '@temporalio/workflow';
import {
  CANCEL_SIGNAL,
  ControlRecord,
  ControlRequest,
  ControlSignalName,
  PAUSE_TIMED_OUT,
  applyControlSignal,
  applyPauseTimeout,
  initialControlState,
  requestTime,
} from './contract';

/** What the gate needs from the workflow around it. */
export interface ControlGateHooks {
  /** The control state changed, at `at`: record it. */
  changed(before: ControlRecord, after: ControlRecord, at: Date): void;
  /**
   * A deadline with `cancel` passed: have Temporal cancel this workflow (only a cancellation
   * request can end a workflow as CANCELLED). Resolves once Temporal has it.
   */
  requestCancellation(): Promise<void>;
  /** A deadline with `fail` passed: stop whatever runs (a step), the task ends now. */
  interrupt(): void;
}

/** The error a task ends with when a pause deadline with `fail` passes. */
export const pauseTimedOutFailure = (): ApplicationFailure =>
  ApplicationFailure.nonRetryable(PAUSE_TIMED_OUT, 'PauseTimedOut');

/**
 * A task's control state and the gate its checkpoints pass: pause, resume and cancel arrive as
 * signals and change the state by the contract's one rule; a pause may carry a deadline, a
 * durable Temporal timer that applies the pause's policy if that same pause still holds when
 * it fires. Everything that can hold a task at a checkpoint lives here, so further reasons to
 * wait (approvals) compose with it in one place.
 *
 * Deadlines only ever add commands (a timer, its cancellation, a cancellation request) on
 * their own paths: a task paused without one runs exactly the commands it always did, so
 * histories recorded before deadlines replay unchanged.
 */
export class ControlGate {
  control: ControlRecord = initialControlState();
  /** Set once a deadline with `fail` passed: the task ends with it. */
  failure?: ApplicationFailure;
  /** The timer of the pause that holds, while it has a deadline. */
  private deadline?: CancellationScope;
  /** The cancellation a deadline asked Temporal for, until Temporal has it. */
  private cancelling?: Promise<void>;

  constructor(private readonly hooks: ControlGateHooks) {}

  /** A control signal, in the order Temporal recorded it. */
  signal(name: ControlSignalName, request: ControlRequest): void {
    const at = requestTime(request, new Date());
    const next = applyControlSignal(this.control, name, request, at);
    if (next === this.control) return;
    this.change(next, at);
    if (next.is_paused && next.pause_deadline) this.watchDeadline(next);
  }

  /**
   * A cancellation that is not a cancel_v1 signal (an approval rejected or expired), by the
   * contract's cancel rule; `requestIt` when nobody else asks Temporal for the cancellation
   * (the workflow's own decision). False when the task was cancelled already.
   */
  cancel(reason: string, by: string, at: Date, requestIt: boolean): boolean {
    const next = applyControlSignal(this.control, CANCEL_SIGNAL, { reason, requested_by: by }, at);
    if (next === this.control) return false;
    this.change(next, at);
    if (requestIt) this.cancelling = this.hooks.requestCancellation();
    return true;
  }

  /**
   * At a checkpoint: waits while the task is paused. Returns when the task may go on; throws
   * when it ends instead (cancelled: once Temporal's cancellation request arrives).
   */
  async pass(onWait: () => void, onContinue: () => void): Promise<void> {
    if (this.control.is_paused && !this.control.is_cancelled) {
      onWait();
      await condition(() => !this.control.is_paused || this.control.is_cancelled);
      if (!this.control.is_cancelled && !this.failure) onContinue();
    }
    if (this.failure) throw this.failure;
    if (this.control.is_cancelled) {
      // The API sends cancel_v1 and then requests cancellation (a deadline requests it itself);
      // only the latter can end the workflow as CANCELLED, so wait here for it instead of
      // running another step.
      await CancellationScope.current().cancelRequested;
    }
  }

  /**
   * Before the workflow ends as cancelled: the cancellation request a deadline made, to await
   * first, or its activity would still be running when the workflow closes. Undefined without
   * one (nothing to await: the commands of every other cancellation stay as they were).
   */
  settle(): Promise<void> | undefined {
    const pending = this.cancelling;
    return pending && CancellationScope.nonCancellable(() => pending);
  }

  private change(next: ControlRecord, at: Date): void {
    const before = this.control;
    this.control = next;
    this.hooks.changed(before, next, at);
    // A pause that ended (resumed, cancelled, its deadline applied) takes its timer with it.
    if (!next.is_paused && this.deadline) {
      this.deadline.cancel();
      this.deadline = undefined;
    }
  }

  /**
   * Starts the timer of a pause's deadline. A deadline already past (the pause reached the
   * workflow late: no worker ran) applies right after the signals of this workflow task, so a
   * resume that arrived with it still wins, as the API's fold of the history says it does.
   */
  private watchDeadline(pause: ControlRecord): void {
    const scope = new CancellationScope();
    this.deadline = scope;
    const wait = Date.parse(pause.pause_deadline) - Date.now();
    void scope
      .run(() => (wait > 0 ? sleep(wait) : Promise.resolve()))
      .then(
        () => this.deadlinePassed(pause.version),
        (err: unknown) => {
          if (!isCancellation(err)) throw err;
        },
      );
  }

  /** Applies the policy, if the pause that set the deadline still holds. */
  private deadlinePassed(version: number): void {
    if (this.control.version !== version) return;
    const next = applyPauseTimeout(this.control);
    if (next === this.control) return;
    this.deadline = undefined; // fired: nothing left to cancel
    this.change(next, new Date());
    switch (next.timed_out) {
      case 'cancel':
        this.cancelling = this.hooks.requestCancellation();
        break;
      case 'fail':
        this.failure = pauseTimedOutFailure();
        this.hooks.interrupt();
        break;
      case 'resume':
      case undefined:
        break;
    }
  }
}
