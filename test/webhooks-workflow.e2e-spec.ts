/**
 * The delivery workflow's own decisions, run by a real worker (the built workflow bundle) on
 * the run's real Temporal: a session that ends with a retry due later makes it sleep on a
 * Temporal timer until then, and after 200 sessions it continues as new with its progress,
 * pending retry included. Its activity is scripted here: a real session ends early only on a
 * wait over a minute, so 200 of them would take hours. What the real activity does on each side
 * (ending a session on a long wait, resuming a carried progress, giving up after 24 h) is
 * tested against a real receiver in test/webhooks.e2e-spec.ts.
 */
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, mapFromPayloads } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  DeliveryProgress,
  DeliverySessionInput,
  DeliverySessionResult,
  MEMO_DELIVERIES,
  TASK_WEBHOOKS_WORKFLOW_TYPE,
  TaskWebhooksInput,
  webhookTaskQueue,
} from '../src/workflows/webhook-contract';
import { temporalAddress, temporalTls } from './support/e2e-env';
import { ROOT } from './support/processes';
import { waitFor } from './support/wait';

type Session = (input: DeliverySessionInput, index: number) => DeliverySessionResult;

/** One session as the scripted activity saw it. */
interface SessionCall {
  input: DeliverySessionInput;
  runId: string;
  at: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const durationMs = (d?: { seconds?: unknown; nanos?: number | null } | null): number =>
  Number(d?.seconds ?? 0) * 1000 + Math.round((d?.nanos ?? 0) / 1e6);
const decode = (payload: unknown): unknown => defaultPayloadConverter.fromPayload(payload as never);

describe('taskWebhooksWorkflow on a real Temporal (scripted delivery activity)', () => {
  const taskQueue = `webhooks-workflow-${randomUUID()}`;
  const scripts = new Map<string, Session>();
  const calls = new Map<string, SessionCall[]>();
  let connection: NativeConnection;
  let workers: Worker[];
  let running: Promise<void>;
  let client: Client;

  beforeAll(async () => {
    // The SDK logs every worker state change at INFO; a failure still says why.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    connection = await NativeConnection.connect({
      address: temporalAddress(),
      tls: temporalTls(),
    });
    const deliverTaskWebhooks = (input: DeliverySessionInput): Promise<DeliverySessionResult> => {
      const { workflowId, runId } = Context.current().info.workflowExecution!;
      const seen = calls.get(workflowId) ?? [];
      seen.push({ input, runId, at: Date.now() });
      calls.set(workflowId, seen);
      return Promise.resolve(scripts.get(workflowId)!(input, seen.length - 1));
    };
    workers = [
      await Worker.create({
        connection,
        taskQueue,
        workflowBundle: { codePath: join(ROOT, 'dist', 'workflow-bundle.js') },
        // Registered as the real worker registers it (the task workflow calls it).
        sinks: { taskNotices: { changed: { fn: () => undefined } } },
      }),
      await Worker.create({
        connection,
        taskQueue: webhookTaskQueue(taskQueue),
        activities: { deliverTaskWebhooks },
      }),
    ];
    running = Promise.all(workers.map((w) => w.run())).then(() => undefined);
    client = new Client({
      connection: await Connection.connect({ address: temporalAddress(), tls: temporalTls() }),
    });
  });

  afterAll(async () => {
    for (const worker of workers ?? []) worker.shutdown();
    await running;
    await connection?.close();
    await client?.connection.close();
  });

  const start = (
    script: Session,
  ): Promise<{ handle: WorkflowHandle; input: TaskWebhooksInput; workflowId: string }> => {
    const workflowId = `task_${randomUUID()}/webhooks`;
    const input: TaskWebhooksInput = {
      task_id: workflowId.replace('/webhooks', ''),
      run_id: randomUUID(),
      webhook: { url: 'https://hooks.example.com/tasks', events: ['WORKFLOW_COMPLETED'] },
    };
    scripts.set(workflowId, script);
    return client.workflow
      .start(TASK_WEBHOOKS_WORKFLOW_TYPE, { taskQueue, workflowId, args: [input] })
      .then((handle) => ({ handle, input, workflowId }));
  };

  const sessionInput = (input: TaskWebhooksInput, progress: DeliveryProgress) => ({
    task_id: input.task_id,
    run_id: input.run_id,
    webhook: input.webhook,
    progress,
  });

  it('sleeps on a Temporal timer until a retry is due, holding no activity, then goes on from the recorded progress', async () => {
    const WAIT_MS = 2000;
    let retrying: DeliveryProgress | undefined;
    const done: DeliveryProgress = { seq: 9, failures: 2, given_up: 0 };
    const { handle, input, workflowId } = await start((_, index) => {
      if (index > 0) return { progress: done, done: true };
      const now = Date.now();
      retrying = {
        seq: 3,
        failures: 2,
        given_up: 0,
        retrying: { seq: 5, since: iso(now - 5000), attempts: 2, next_at: iso(now + WAIT_MS) },
      };
      return { progress: retrying, done: false };
    });

    // While the timer runs: no activity pending, the memo holds the progress with its retry.
    const timer = await waitFor('the timer to start', async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      return (
        events.find((e) => e.timerStartedEventAttributes)?.timerStartedEventAttributes ?? undefined
      );
    });
    const waiting = await handle.describe();
    expect(waiting.raw.pendingActivities ?? []).toEqual([]);
    expect(waiting.memo).toEqual({ [MEMO_DELIVERIES]: retrying });

    expect(await handle.result()).toEqual(done);
    const sessions = calls.get(workflowId)!;
    expect(sessions.map((s) => s.input)).toEqual([
      sessionInput(input, { seq: 0, failures: 0, given_up: 0 }),
      sessionInput(input, retrying!),
    ]);
    // The next session ran once the retry was due, not before.
    expect(sessions[1].at).toBeGreaterThanOrEqual(Date.parse(retrying!.retrying!.next_at));
    // The timer was for the rest of the wait (the workflow's clock is its task's start time).
    expect(durationMs(timer.startToFireTimeout)).toBeGreaterThan(WAIT_MS - 1000);
    expect(durationMs(timer.startToFireTimeout)).toBeLessThanOrEqual(WAIT_MS);

    const events = (await handle.fetchHistory()).events ?? [];
    const kinds = events.flatMap((e) =>
      e.activityTaskScheduledEventAttributes
        ? ['session']
        : e.timerStartedEventAttributes
          ? ['timer started']
          : e.timerFiredEventAttributes
            ? ['timer fired']
            : e.workflowExecutionCompletedEventAttributes
              ? ['completed']
              : [],
    );
    expect(kinds).toEqual(['session', 'timer started', 'timer fired', 'session', 'completed']);
    expect((await handle.describe()).memo).toEqual({ [MEMO_DELIVERIES]: done });
  });

  it('continues as new after 200 sessions, carrying the progress and its pending retry to the next run', async () => {
    const since = iso(Date.now() - 1000);
    const progressAfter = (n: number): DeliveryProgress => ({
      seq: n,
      failures: n,
      given_up: 1,
      // Due already: the workflow starts the next session at once.
      retrying: { seq: n + 1, since, attempts: 1, next_at: iso(0) },
    });
    const finalProgress: DeliveryProgress = { seq: 500, failures: 201, given_up: 1 };
    const { handle, input, workflowId } = await start((_, index) =>
      index < 200
        ? { progress: progressAfter(index + 1), done: false }
        : { progress: finalProgress, done: true },
    );

    expect(await handle.result()).toEqual(finalProgress);
    const sessions = calls.get(workflowId)!;
    expect(sessions).toHaveLength(201);
    const firstRun = sessions[0].runId;
    expect(sessions.slice(0, 200).every((s) => s.runId === firstRun)).toBe(true);
    expect(sessions[200].runId).not.toBe(firstRun);
    // Each session started from where the one before ended, across the two runs.
    expect(sessions.map((s) => s.input.progress)).toEqual([
      { seq: 0, failures: 0, given_up: 0 },
      ...Array.from({ length: 200 }, (_, i) => progressAfter(i + 1)),
    ]);
    const carried = progressAfter(200);
    expect(sessions[200].input).toEqual(sessionInput(input, carried));

    // The first run ended by continuing as new with the progress as input and memo.
    const first = (await client.workflow.getHandle(workflowId, firstRun).fetchHistory()).events!;
    const continued = first.at(-1)!.workflowExecutionContinuedAsNewEventAttributes!;
    expect(continued).toBeDefined();
    expect(decode(continued.input!.payloads![0])).toEqual({ ...input, progress: carried });
    expect(mapFromPayloads(defaultPayloadConverter, continued.memo!.fields)).toEqual({
      [MEMO_DELIVERIES]: carried,
    });
    // The second run started from it.
    const second = (await client.workflow.getHandle(workflowId, sessions[200].runId).fetchHistory())
      .events!;
    const started = second[0].workflowExecutionStartedEventAttributes!;
    expect(started.continuedExecutionRunId).toBe(firstRun);
    expect(decode(started.input!.payloads![0])).toEqual({ ...input, progress: carried });
    expect(mapFromPayloads(defaultPayloadConverter, started.memo!.fields)).toEqual({
      [MEMO_DELIVERIES]: carried,
    });
  });
});
