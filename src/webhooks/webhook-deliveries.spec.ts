import { Logger } from '@nestjs/common';
import { Context, asyncLocalStorage } from '@temporalio/activity';
import type { Info } from '@temporalio/activity';
import { BehaviorSubject } from 'rxjs';
import { loadConfig } from '../config/app-config';
import type { FeedState } from '../events/task-event-feeds';
import { TaskNotFoundError } from '../tasks/errors';
import type { TaskEvent } from '../tasks/task-event';
import type { TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import type { TaskEventFeeds } from '../events/task-event-feeds';
import type {
  DeliveryProgress,
  DeliverySessionInput,
  DeliverySessionResult,
} from '../workflows/webhook-contract';
import { waitFor } from '../testing/wait';
import { WebhookDeliveries } from './webhook-deliveries';
import { AttemptOutcome, WebhookSender } from './webhook-sender';

const SECRET = `whsec_${Buffer.from('the secret of this spec').toString('base64')}`;
const HOUR = 3_600_000;
const URL = 'https://hooks.example.com/tasks?token=abc';

const event = (seq: number, type: TaskEvent['type']): TaskEvent => ({
  workflow_id: 'task_1',
  type,
  message: type,
  timestamp: `2026-03-01T12:00:0${seq}.000Z`,
  seq,
});
const STARTED = event(1, 'WORKFLOW_STARTED');
const PROGRESS = event(3, 'PROGRESS');
const COMPLETED = event(5, 'WORKFLOW_COMPLETED');

const input = (progress: DeliveryProgress): DeliverySessionInput => ({
  task_id: 'task_1',
  run_id: 'run_1',
  webhook: { url: URL, events: ['WORKFLOW_STARTED', 'WORKFLOW_COMPLETED'] },
  progress,
});
const START: DeliveryProgress = { seq: 0, failures: 0, given_up: 0 };

/**
 * The delivery activity with its Temporal reads stubbed: the task's memo, and a feed whose
 * states the test sets. Attempts are answered from `answers` in order (then 200), recorded in
 * `sent`; heartbeats in `heartbeats`; warnings in `warnings`.
 */
function setUp(env: Record<string, string> = {}) {
  const config = loadConfig({ WEBHOOK_SECRET: SECRET, ...env });
  const feed = new BehaviorSubject<FeedState>({ events: [], closed: false });
  const describe = jest.fn(() =>
    Promise.resolve({ memo: { tenant_id: 'acme' }, startTime: new Date() }),
  );
  const deliveries = new WebhookDeliveries(
    config,
    { describe } as unknown as TaskWorkflowGateway,
    { follow: () => feed.asObservable() } as unknown as TaskEventFeeds,
  );
  const answers: AttemptOutcome[] = [];
  const sent: { id: string; body: unknown; at: number }[] = [];
  jest.spyOn(WebhookSender.prototype, 'send').mockImplementation((url, id, body) => {
    expect(url).toBe(URL);
    sent.push({ id, body: JSON.parse(body), at: Date.now() });
    return Promise.resolve(answers.shift() ?? { ok: true, status: 200 });
  });
  const warnings: string[] = [];
  jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
    warnings.push(String(message));
  });
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  const heartbeats: DeliveryProgress[] = [];
  const session = (
    sessionInput: DeliverySessionInput,
    heartbeatDetails?: DeliveryProgress,
  ): Promise<DeliverySessionResult> => {
    const info = {
      workflowExecution: { workflowId: 'task_1/webhooks', runId: 'run_w' },
      attempt: heartbeatDetails ? 2 : 1,
      heartbeatDetails,
    } as unknown as Info;
    const context = new Context(
      info,
      new Promise<never>(() => undefined),
      new AbortController().signal,
      (details?: unknown) => heartbeats.push(details as DeliveryProgress),
      undefined,
      undefined as never,
      undefined as never,
      undefined as never,
    );
    return asyncLocalStorage.run(context, () =>
      deliveries.activities().deliverTaskWebhooks(sessionInput),
    );
  };
  return { deliveries, feed, describe, answers, sent, warnings, heartbeats, session };
}

const payload = (e: TaskEvent) => ({
  type: e.type,
  task_id: 'task_1',
  seq: e.seq,
  timestamp: e.timestamp,
  data: e,
});

afterEach(() => jest.restoreAllMocks());

describe('WebhookDeliveries session', () => {
  it('POSTs the wanted events in seq order as they come, and is done once the task closed', async () => {
    const t = setUp();
    t.feed.next({ events: [STARTED], closed: false });
    const result = t.session(input(START));
    // The first event goes while the task still runs; the session then waits for more.
    await waitFor('the first delivery', () => t.sent.length === 1, 5000);
    t.feed.next({ events: [STARTED, PROGRESS, COMPLETED], closed: true });

    expect(await result).toEqual({ progress: { seq: 5, failures: 0, given_up: 0 }, done: true });
    expect(t.sent.map((s) => [s.id, s.body])).toEqual([
      ['evt_task_1_1', payload(STARTED)],
      ['evt_task_1_5', payload(COMPLETED)],
    ]);
    expect(t.heartbeats[0]).toEqual(START);
    expect(t.warnings).toEqual([]);
  });

  it('retries a failed attempt within the session when the wait is short, and counts it', async () => {
    const t = setUp({ WEBHOOK_RETRY_INITIAL_MS: '10', WEBHOOK_RETRY_MAX_MS: '20' });
    t.feed.next({ events: [STARTED, COMPLETED], closed: true });
    t.answers.push({ ok: false, reason: 'answered 503' }, { ok: false, reason: 'answered 500' });

    expect(await t.session(input(START))).toEqual({
      progress: { seq: 5, failures: 2, given_up: 0 },
      done: true,
    });
    expect(t.sent.map((s) => s.id)).toEqual([
      'evt_task_1_1',
      'evt_task_1_1',
      'evt_task_1_1',
      'evt_task_1_5',
    ]);
    // Each retry waited its backoff: 10 ms (±20 %), then 20 ms at most.
    expect(t.sent[1].at - t.sent[0].at).toBeGreaterThanOrEqual(7);
    expect(t.warnings).toEqual([
      'Task task_1: event 1 to https://hooks.example.com failed (answered 503); retrying',
    ]);
  });

  it('ends the session when the next retry is due in over a minute, holding the retry', async () => {
    // The production backoff: the fifth failure of an event waits 80 s (±20 %).
    const t = setUp();
    t.feed.next({ events: [STARTED, COMPLETED], closed: true });
    t.answers.push({ ok: false, reason: 'answered 503' });
    const since = new Date(Date.now() - 80_000).toISOString();
    const carried: DeliveryProgress = {
      seq: 0,
      failures: 4,
      given_up: 0,
      retrying: { seq: 1, since, attempts: 4, next_at: new Date(Date.now() - 1).toISOString() },
    };

    const before = Date.now();
    const result = await t.session(input(carried));
    const after = Date.now();

    expect(result).toEqual({
      progress: {
        seq: 0,
        failures: 5,
        given_up: 0,
        retrying: { seq: 1, since, attempts: 5, next_at: expect.any(String) },
      },
      done: false,
    });
    const due = Date.parse(result.progress.retrying!.next_at);
    expect(due).toBeGreaterThanOrEqual(before + 64_000);
    expect(due).toBeLessThanOrEqual(after + 96_000);
    expect(t.sent.map((s) => s.id)).toEqual(['evt_task_1_1']);
  });

  it('returns at once, attempting nothing, when the retry it was given is due in over a minute', async () => {
    const t = setUp();
    t.feed.next({ events: [STARTED, COMPLETED], closed: true });
    const carried: DeliveryProgress = {
      seq: 0,
      failures: 5,
      given_up: 0,
      retrying: {
        seq: 1,
        since: new Date(Date.now() - 200_000).toISOString(),
        attempts: 5,
        next_at: new Date(Date.now() + 61_000).toISOString(),
      },
    };
    expect(await t.session(input(carried))).toEqual({ progress: carried, done: false });
    expect(t.sent).toEqual([]);
  });

  it('gives an event up once its retries began 24 h ago, records it, and goes on with the next', async () => {
    const t = setUp();
    t.feed.next({ events: [STARTED, PROGRESS, COMPLETED], closed: true });
    t.answers.push({ ok: false, reason: 'answered 503' });
    const carried: DeliveryProgress = {
      seq: 0,
      failures: 40,
      given_up: 0,
      retrying: {
        seq: 1,
        since: new Date(Date.now() - 24 * HOUR - 1000).toISOString(),
        attempts: 40,
        next_at: new Date(Date.now() - 1).toISOString(),
      },
    };

    expect(await t.session(input(carried))).toEqual({
      progress: { seq: 5, failures: 41, given_up: 1 },
      done: true,
    });
    expect(t.sent.map((s) => s.id)).toEqual(['evt_task_1_1', 'evt_task_1_5']);
    // The origin only: never the path or query (which may hold a token), never the secret.
    expect(t.warnings).toEqual([
      'Task task_1: event 1 given up after 41 attempts to https://hooks.example.com (last: answered 503)',
    ]);
    expect(t.heartbeats[0]).toEqual(carried);
  });

  it('resumes from its last heartbeat, not from its input, when Temporal runs it again', async () => {
    const t = setUp();
    t.feed.next({ events: [STARTED, COMPLETED], closed: true });
    expect(await t.session(input(START), { seq: 1, failures: 2, given_up: 0 })).toEqual({
      progress: { seq: 5, failures: 2, given_up: 0 },
      done: true,
    });
    expect(t.sent.map((s) => s.id)).toEqual(['evt_task_1_5']);
  });

  it('is done, sending nothing, when the task is gone', async () => {
    const t = setUp();
    t.describe.mockRejectedValue(new TaskNotFoundError());
    expect(await t.session(input(START))).toEqual({ progress: START, done: true });
    expect(t.sent).toEqual([]);
  });
});
