import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, mapFromPayloads } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TaskProgress } from '../../src/workflows/contract';
import { temporalAddress, temporalTls } from './e2e-env';
import { waitFor } from './wait';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A bare Temporal client the tests use to look at what really happened. */
export class TemporalObserver {
  private constructor(readonly client: Client) {}

  static async connect(): Promise<TemporalObserver> {
    const connection = await Connection.connect({ address: temporalAddress(), tls: temporalTls() });
    return new TemporalObserver(new Client({ connection }));
  }

  async close(): Promise<void> {
    await this.client.connection.close();
  }

  async history(taskId: string): Promise<HistoryEvent[]> {
    const history = await this.client.workflow.getHandle(taskId).fetchHistory();
    return history.events ?? [];
  }

  /** The workflow's own record of where it stands (its memo), readable without a worker. */
  async progress(taskId: string): Promise<TaskProgress | undefined> {
    const { memo } = await this.client.workflow.getHandle(taskId).describe();
    return memo?.progress as TaskProgress | undefined;
  }

  /** Resolves once the workflow waits, paused, at `checkpoint`. */
  waitUntilPausedAt(taskId: string, checkpoint: string): Promise<TaskProgress> {
    return waitFor(`${taskId} to wait at ${checkpoint}`, async () => {
      const progress = await this.progress(taskId);
      return progress?.waiting && progress.checkpoint === checkpoint ? progress : undefined;
    });
  }

  /** Resolves once a worker runs the `n`th step's activity. */
  waitUntilStepRunning(taskId: string, step: number): Promise<true> {
    // History records an activity's start only once it ends, so ask for pending activities.
    return waitFor(`${taskId} to run step ${step}`, async () => {
      const handle = this.client.workflow.getHandle(taskId);
      const activityId = scheduledSteps(await this.history(taskId)).find(
        (s) => s.step === step,
      )?.activityId;
      if (activityId === undefined) return undefined;
      const { raw } = await handle.describe();
      return raw.pendingActivities?.some(
        (a) => a.activityId === activityId && a.state === PENDING_ACTIVITY_STARTED,
      )
        ? true
        : undefined;
    });
  }
}

const PENDING_ACTIVITY_STARTED =
  temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/** The runStep activities scheduled in a history, in order, with their step numbers. */
export function scheduledSteps(
  events: HistoryEvent[],
): { step: number; eventId: number; activityId: string }[] {
  return events
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runStep')
    .map((e) => {
      const payload = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0];
      const input = payload
        ? defaultPayloadConverter.fromPayload<{ step: number }>(payload)
        : undefined;
      return {
        step: input?.step ?? -1,
        eventId: Number(e.eventId),
        activityId: e.activityTaskScheduledEventAttributes?.activityId ?? '',
      };
    });
}

/** Names of the signals recorded in a history, in order. */
export const signalNames = (events: HistoryEvent[]): string[] =>
  events.flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []);

/** Event IDs at which the workflow's memo recorded progress, with that progress. */
export function progressRecords(
  events: HistoryEvent[],
): { eventId: number; progress: TaskProgress }[] {
  return events.flatMap((e) => {
    const memo = mapFromPayloads(
      defaultPayloadConverter,
      e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields,
    );
    return memo?.progress
      ? [{ eventId: Number(e.eventId), progress: memo.progress as TaskProgress }]
      : [];
  });
}

/** Each step scheduled once and completed once: what "ran exactly once" means to the workflow. */
export async function expectEachStepCompletedOnce(
  temporal: TemporalObserver,
  taskId: string,
  steps: number,
) {
  const events = await temporal.history(taskId);
  const scheduled = scheduledSteps(events);
  expect(scheduled.map((s) => s.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
  const completed = events.filter((e) =>
    scheduled.some(
      (s) => s.eventId === Number(e.activityTaskCompletedEventAttributes?.scheduledEventId),
    ),
  );
  expect(completed).toHaveLength(steps);
}

/** How a call that Temporal retried ended up running: its last attempt and the failure before it. */
export interface CallAttempts {
  attempt: number;
  lastFailure?: { message: string; type: string; nonRetryable: boolean };
}

/**
 * The attempts of a task's call (`planTask`, `runStep` with its step, `synthesizeResult`), from
 * its history once the call has ended: Temporal writes a retried activity's start event when
 * the activity ends, with the attempt that ran and the failure of the attempt before it.
 */
export function callAttempts(
  events: HistoryEvent[],
  activity: 'planTask' | 'runStep' | 'synthesizeResult',
  step?: number,
): CallAttempts {
  const scheduledId =
    activity === 'runStep'
      ? scheduledSteps(events).find((s) => s.step === step)?.eventId
      : Number(
          events.find(
            (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity,
          )?.eventId,
        );
  const started = events.find(
    (e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === scheduledId,
  )?.activityTaskStartedEventAttributes;
  if (!started) throw new Error(`no ended ${activity} ${step ?? ''} in the history`);
  const failure = started.lastFailure;
  return {
    attempt: started.attempt ?? 0,
    ...(failure && {
      lastFailure: {
        message: failure.message ?? '',
        type: failure.applicationFailureInfo?.type ?? '',
        nonRetryable: failure.applicationFailureInfo?.nonRetryable ?? false,
      },
    }),
  };
}
