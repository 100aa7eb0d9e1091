/**
 * Task webhooks against a real receiver this test starts: every event POSTed, signed (checked
 * with an independent implementation of Standard Webhooks), in seq order; retries of a failing
 * or hanging receiver; a worker killed while deliveries are pending; approval events; both
 * submit routes; targets refused at submit; the secret kept out of every log. A worker process
 * of its own runs on a task queue of this suite, with short retry backoffs; a second one runs
 * with the production backoff (5 s doubling to an hour, for 24 h) for the long retry paths.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  DeliveryProgress,
  TASK_WEBHOOKS_WORKFLOW_TYPE,
  TaskWebhooksInput,
  webhookWorkflowId,
} from '../src/workflows/webhook-contract';
import { ApiClient, TestApi } from './support/api';
import { temporalEnv } from './support/e2e-env';
import { writeKeysFile } from './support/keys';
import { freePort } from './support/ports';
import { NodeProcess, startNodeProcess, startWorkerProcess } from './support/processes';
import { RecordedRequest, RecordingServer, sendJson } from './support/recording-server';
import { verifyStandardWebhook } from './support/standard-webhooks';
import { TemporalObserver } from './support/temporal';
import { waitFor } from './support/wait';

const SECRET_KEY = 'the webhook secret of this suite';
const SECRET = `whsec_${Buffer.from(SECRET_KEY).toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('not the secret of this suite').toString('base64')}`;
const HOUR = 3_600_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('Task webhooks', () => {
  const taskQueue = `webhooks-${randomUUID()}`;
  /** Runs delivery workflows started by the tests themselves, with the production backoff. */
  const productionQueue = `webhooks-production-${randomUUID()}`;
  const workerEnv = {
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_ALLOW_PRIVATE: 'true',
    // Short backoffs so retries happen within the test; production waits seconds to an hour.
    WEBHOOK_RETRY_INITIAL_MS: '100',
    WEBHOOK_RETRY_MAX_MS: '400',
    // The shortest allowed: a hanging receiver costs the test a second per attempt.
    WEBHOOK_TIMEOUT_MS: '1000',
  };
  /** Answers for each path, in order; a path with none left answers 200. */
  const scripted = new Map<string, number[]>();
  /** Paths that answer 503 until released. */
  const held = new Set<string>();
  /** Paths that never answer (until released): the sender's timeout ends each attempt. */
  const hanging = new Set<string>();
  /** The requests that got no answer. */
  const hung: RecordedRequest[] = [];
  let receiver: RecordingServer;
  let worker: NodeProcess;
  /** Every process of this suite, whose logs must never hold the secret. */
  const processes: NodeProcess[] = [];
  let productionWorker: NodeProcess;
  let api: TestApi;
  /** Runs without WEBHOOK_ALLOW_PRIVATE, as production does. */
  let strictApi: TestApi;
  /** Runs without WEBHOOK_SECRET. */
  let unsignedApi: TestApi;
  /** A real API process (production logging), whose output the secret check reads. */
  let apiProcess: NodeProcess;
  let apiProcessClient: ApiClient;
  let temporal: TemporalObserver;

  const startWorker = (queue: string, env: Record<string, string>): NodeProcess => {
    const proc = startWorkerProcess({
      address: temporalEnv().TEMPORAL_ADDRESS,
      taskQueue: queue,
      env,
    });
    processes.push(proc);
    return proc;
  };

  beforeAll(async () => {
    receiver = await RecordingServer.start((req: RecordedRequest, res: ServerResponse) => {
      if (hanging.has(req.path)) {
        hung.push(req);
        return;
      }
      const status = held.has(req.path) ? 503 : (scripted.get(req.path)?.shift() ?? 200);
      sendJson(res, status, status === 200 ? { ok: true } : { error: 'not now' });
    });
    worker = startWorker(taskQueue, workerEnv);
    productionWorker = startWorker(productionQueue, {
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    const port = await freePort();
    apiProcess = startNodeProcess('main', {
      ...temporalEnv(),
      NODE_ENV: 'production',
      LOG_FORMAT: 'json',
      PORT: String(port),
      TEMPORAL_TASK_QUEUE: taskQueue,
      API_KEYS_FILE: writeKeysFile(),
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    processes.push(apiProcess);
    apiProcessClient = new ApiClient(`http://127.0.0.1:${port}`);
    api = await TestApi.start({
      taskQueue,
      env: { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true' },
    });
    strictApi = await TestApi.start({ taskQueue, env: { WEBHOOK_SECRET: SECRET } });
    unsignedApi = await TestApi.start({ taskQueue, env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
    temporal = await TemporalObserver.connect();
    await waitFor('the API process to listen', async () => {
      if (apiProcess.output().includes('Start-up failed')) throw new Error(apiProcess.output());
      const res = await apiProcessClient.request('GET', '/health').catch(() => undefined);
      return res?.status === 200;
    });
  });

  afterAll(async () => {
    await temporal?.close();
    await api?.close();
    await strictApi?.close();
    await unsignedApi?.close();
    await apiProcess?.stop();
    await worker?.stop();
    await productionWorker?.stop();
    await receiver?.close();
  });

  const submit = async (
    path: string,
    context: Record<string, unknown> = { steps: 2, step_duration_ms: 200 },
    events?: string[],
    more: Record<string, unknown> = {},
  ): Promise<string> => {
    const res = await api.request('POST', '/api/v1/tasks', {
      json: {
        query: 'Summarize the quarterly report',
        context,
        webhook: { url: `${receiver.url}${path}`, ...(events && { events }) },
        ...more,
      },
    });
    expect(res.status).toBe(200);
    return res.body.task_id as string;
  };

  /** The task's events as the API lists them, of the given types. */
  const eventsOf = async (taskId: string, types?: string[]): Promise<any[]> => {
    const res = await api.request('GET', `/api/v1/tasks/${taskId}/events?limit=200`);
    expect(res.status).toBe(200);
    return (res.body.events as any[]).filter((e) => !types || types.includes(e.type));
  };
  const DEFAULT_TYPES = [
    'WORKFLOW_STARTED',
    'workflow.pausing',
    'workflow.paused',
    'workflow.resumed',
    'workflow.cancelling',
    'workflow.cancelled',
    'WORKFLOW_COMPLETED',
    'WORKFLOW_FAILED',
  ];

  const deliveriesTo = (path: string) => receiver.requests.filter((r) => r.path === path);
  const waitForDelivery = (path: string, type: string, timeoutMs = 30_000) =>
    waitFor(
      `a ${type} delivery to ${path}`,
      () => deliveriesTo(path).find((r) => r.json?.type === type),
      timeoutMs,
    );

  /** The first arrival of each message, in arrival order: what a deduplicating receiver keeps. */
  const firstArrivals = (requests: RecordedRequest[]): RecordedRequest[] => {
    const seen = new Set<string>();
    return requests.filter((r) => {
      const id = String(r.headers['webhook-id']);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  };

  /** Every event arrived at least once, first arrivals in seq order, each signed and as documented. */
  const expectDelivered = (taskId: string, path: string, events: any[]): void => {
    const requests = deliveriesTo(path);
    for (const r of requests) {
      expect(r.method).toBe('POST');
      expect(r.headers['content-type']).toBe('application/json');
      expect(verifyStandardWebhook(r, SECRET)).toBe(true);
      expect(verifyStandardWebhook(r, OTHER_SECRET)).toBe(false);
    }
    const arrivals = firstArrivals(requests);
    expect(arrivals.map((r) => r.json)).toEqual(
      events.map((event) => ({
        type: event.type,
        task_id: taskId,
        seq: event.seq,
        timestamp: event.timestamp,
        data: event,
      })),
    );
    // One id per event, the same on every attempt of it.
    expect(arrivals.map((r) => r.headers['webhook-id'])).toEqual(
      events.map((event) => `evt_${taskId}_${event.seq}`),
    );
    for (const r of requests) {
      expect(r.headers['webhook-id']).toBe(`evt_${taskId}_${r.json.seq}`);
    }
  };

  const status = async (taskId: string) => {
    const res = await api.request('GET', `/api/v1/tasks/${taskId}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  it('POSTs every transition of a paused, resumed and completed task once or more, in seq order, signed', async () => {
    const taskId = await submit('/lifecycle', { steps: 3, step_duration_ms: 300 });
    await api.waitForStatus(taskId, 'TASK_STATUS_RUNNING');
    expect(
      (await api.request('POST', `/api/v1/tasks/${taskId}/pause`, { json: { reason: 'hold' } }))
        .status,
    ).toBe(202);
    // Paused at a checkpoint, not only asked to pause.
    await waitFor('workflow.paused', async () => (await eventsOf(taskId, ['workflow.paused']))[0]);
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/resume`)).status).toBe(202);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    await waitForDelivery('/lifecycle', 'WORKFLOW_COMPLETED');

    const events = await eventsOf(taskId, DEFAULT_TYPES);
    expect(events.map((e) => e.type)).toEqual([
      'WORKFLOW_STARTED',
      'workflow.pausing',
      'workflow.paused',
      'workflow.resumed',
      'WORKFLOW_COMPLETED',
    ]);
    expectDelivered(taskId, '/lifecycle', events);
    expect(deliveriesTo('/lifecycle').some((r) => r.json.type === 'PROGRESS')).toBe(false);
    expect((await status(taskId)).webhook_failures).toBe(0);
  });

  it('sends only the event types asked for, PROGRESS included when named', async () => {
    const taskId = await submit('/chosen', { steps: 2, step_duration_ms: 50 }, [
      'PROGRESS',
      'WORKFLOW_COMPLETED',
    ]);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    await waitForDelivery('/chosen', 'WORKFLOW_COMPLETED');
    const events = await eventsOf(taskId, ['PROGRESS', 'WORKFLOW_COMPLETED']);
    expect(events.filter((e) => e.type === 'PROGRESS').length).toBeGreaterThan(0);
    expectDelivered(taskId, '/chosen', events);
  });

  it('retries a receiver that fails its first 3 attempts, keeps the order and counts the failures', async () => {
    scripted.set('/flaky', [503, 500, 404]);
    const taskId = await submit('/flaky');
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    await waitForDelivery('/flaky', 'WORKFLOW_COMPLETED');

    const events = await eventsOf(taskId, DEFAULT_TYPES);
    expectDelivered(taskId, '/flaky', events);
    // The first event was attempted four times before anything else was sent.
    const requests = deliveriesTo('/flaky');
    expect(requests.slice(0, 4).map((r) => r.json.type)).toEqual(Array(4).fill('WORKFLOW_STARTED'));
    expect(requests.map((r) => r.json.seq)).toEqual(
      [...requests.map((r) => r.json.seq)].sort((a, b) => a - b),
    );
    await waitFor(
      'webhook_failures to be 3',
      async () => (await status(taskId)).webhook_failures === 3,
    );
  });

  it('loses nothing when the worker is killed while deliveries are pending, and never holds the task up', async () => {
    held.add('/held');
    const taskId = await submit('/held');
    // The receiver refuses everything: the task completes all the same.
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    // The failed attempts are recorded (heartbeated) before the crash.
    await waitFor(
      'webhook_failures to reach 3',
      async () => (await status(taskId)).webhook_failures >= 3,
    );

    await worker.kill();
    worker = startWorker(taskQueue, workerEnv);
    held.delete('/held');
    await waitForDelivery('/held', 'WORKFLOW_COMPLETED', 60_000);

    const events = await eventsOf(taskId, DEFAULT_TYPES);
    expect(events.map((e) => e.type)).toEqual(['WORKFLOW_STARTED', 'WORKFLOW_COMPLETED']);
    expectDelivered(taskId, '/held', events);
    expect((await status(taskId)).webhook_failures).toBeGreaterThanOrEqual(3);
  });

  it('times out an attempt a receiver never answers and retries it, while the task runs on unhindered', async () => {
    hanging.add('/slow');
    const taskId = await submit('/slow', { steps: 3, step_duration_ms: 500 });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    // The task completed while its first event was still being attempted, never answered.
    const [completed] = await eventsOf(taskId, ['WORKFLOW_COMPLETED']);
    const slow = () => deliveriesTo('/slow');
    expect(slow()[0].receivedAt).toBeLessThan(Date.parse(completed.timestamp));
    expect(slow().every((r) => hung.includes(r) && r.json.type === 'WORKFLOW_STARTED')).toBe(true);

    // Each attempt is given up by the sender after WEBHOOK_TIMEOUT_MS and tried again.
    await waitFor('a second attempt', () => slow().length >= 2);
    const [first, second] = slow();
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(first.abortedAt).toBeDefined();
    expect(first.abortedAt! - first.receivedAt).toBeGreaterThanOrEqual(950);
    expect(second.receivedAt).toBeGreaterThanOrEqual(first.abortedAt!);

    hanging.delete('/slow');
    await waitForDelivery('/slow', 'WORKFLOW_COMPLETED');
    const events = await eventsOf(taskId, DEFAULT_TYPES);
    expectDelivered(taskId, '/slow', events);
    const unanswered = slow().filter((r) => hung.includes(r)).length;
    expect(unanswered).toBeGreaterThanOrEqual(2);
    await waitFor(
      `webhook_failures to be ${unanswered}, one per unanswered attempt`,
      async () => (await status(taskId)).webhook_failures === unanswered,
    );
    expect(worker.output()).toContain(
      `Task ${taskId}: event ${events[0].seq} to ${receiver.url} failed (no answer within 1000 ms); retrying`,
    );
  });

  it('POSTs the approval request and decision of a gated task, whole', async () => {
    const taskId = await submit('/approvals', { steps: 1, step_duration_ms: 50 }, undefined, {
      approval: { checkpoints: ['pre_step_1'] },
    });
    const pending = await waitFor('the approval request', async () => {
      const res = await api.request('GET', `/api/v1/tasks/${taskId}/control-state`);
      return (res.body.pending_approval as { approval_id: string } | null) ?? undefined;
    });
    const approvalId = `apr_${taskId}_pre_step_1`;
    expect(pending.approval_id).toBe(approvalId);
    // The request is pushed while the task waits.
    const requested = await waitForDelivery('/approvals', 'APPROVAL_REQUESTED');
    const decision = await api.request('POST', '/api/v1/approvals/decision', {
      json: {
        workflow_id: taskId,
        approval_id: approvalId,
        approved: true,
        feedback: 'Totals checked',
      },
    });
    expect(decision.status).toBe(200);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    await waitForDelivery('/approvals', 'WORKFLOW_COMPLETED');

    const events = await eventsOf(taskId, [
      ...DEFAULT_TYPES,
      'APPROVAL_REQUESTED',
      'APPROVAL_DECISION',
    ]);
    expect(events.map((e) => e.type)).toEqual([
      'WORKFLOW_STARTED',
      'APPROVAL_REQUESTED',
      'APPROVAL_DECISION',
      'WORKFLOW_COMPLETED',
    ]);
    expectDelivered(taskId, '/approvals', events);
    const { seq, timestamp } = requested.json;
    expect(timestamp).toMatch(RFC3339);
    expect(requested.json).toEqual({
      type: 'APPROVAL_REQUESTED',
      task_id: taskId,
      seq,
      timestamp,
      data: {
        workflow_id: taskId,
        type: 'APPROVAL_REQUESTED',
        message: 'Approval requested at pre_step_1',
        timestamp,
        seq,
        approval_id: approvalId,
        checkpoint: 'pre_step_1',
      },
    });
    const decided = deliveriesTo('/approvals').find((r) => r.json.type === 'APPROVAL_DECISION')!;
    expect(decided.json.seq).toBeGreaterThan(seq);
    expect(decided.json.timestamp).toMatch(RFC3339);
    expect(decided.json).toEqual({
      type: 'APPROVAL_DECISION',
      task_id: taskId,
      seq: decided.json.seq,
      timestamp: decided.json.timestamp,
      data: {
        workflow_id: taskId,
        type: 'APPROVAL_DECISION',
        message: 'Approved',
        timestamp: decided.json.timestamp,
        seq: decided.json.seq,
        approval_id: approvalId,
        checkpoint: 'pre_step_1',
        approved: true,
        decided_by: 'alice',
        feedback: 'Totals checked',
      },
    });
  });

  it('delivers the events of a task submitted on POST /api/v1/tasks/stream as for a submit', async () => {
    const res = await apiProcessClient.request('POST', '/api/v1/tasks/stream', {
      json: {
        query: 'Summarize the quarterly report',
        context: { steps: 2, step_duration_ms: 50 },
        webhook: { url: `${receiver.url}/streamed` },
      },
    });
    expect(res.status).toBe(201);
    const taskId = res.body.task_id as string;
    expect(res.body).toEqual({
      task_id: taskId,
      workflow_id: taskId,
      stream_url: `/api/v1/stream/sse?workflow_id=${taskId}`,
    });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    await waitForDelivery('/streamed', 'WORKFLOW_COMPLETED');
    const events = await eventsOf(taskId, DEFAULT_TYPES);
    expect(events.map((e) => e.type)).toEqual(['WORKFLOW_STARTED', 'WORKFLOW_COMPLETED']);
    expectDelivered(taskId, '/streamed', events);
    expect((await status(taskId)).webhook_failures).toBe(0);
  });

  it('answers 400 on both submit routes when the API has no WEBHOOK_SECRET to sign with', async () => {
    for (const route of ['/api/v1/tasks', '/api/v1/tasks/stream']) {
      const res = await unsignedApi.request('POST', route, {
        json: {
          query: 'Summarize the quarterly report',
          webhook: { url: `${receiver.url}/unsigned` },
        },
      });
      expect({ route, status: res.status, body: res.body }).toEqual({
        route,
        status: 400,
        body: {
          error:
            'webhook cannot be used: this service has no WEBHOOK_SECRET to sign deliveries with',
        },
      });
    }
    // Without a webhook the same API takes the task.
    const plain = await unsignedApi.request('POST', '/api/v1/tasks', {
      json: { query: 'Summarize the quarterly report', context: { steps: 1, step_duration_ms: 0 } },
    });
    expect(plain.status).toBe(200);
  });

  describe('with the production backoff (5 s doubling to an hour, for 24 h)', () => {
    /** A completed task of this suite without a webhook, and its events of these types. */
    const completedTask = async (types: string[]) => {
      const res = await api.request('POST', '/api/v1/tasks', {
        json: {
          query: 'Summarize the quarterly report',
          context: { steps: 2, step_duration_ms: 0 },
        },
      });
      const taskId = res.body.task_id as string;
      await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
      const { runId } = await temporal.client.workflow.getHandle(taskId).describe();
      return { taskId, runId, events: await eventsOf(taskId, types) };
    };
    /**
     * Starts the task's delivery workflow on the production worker with `progress` as a run
     * continued as new would carry it: the real workflow and activity go on from there.
     */
    const deliverFrom = (
      task: { taskId: string; runId: string },
      path: string,
      events: string[],
      progress: DeliveryProgress,
    ) => {
      const input: TaskWebhooksInput = {
        task_id: task.taskId,
        run_id: task.runId,
        webhook: { url: `${receiver.url}${path}`, events },
        progress,
      };
      return temporal.client.workflow.start(TASK_WEBHOOKS_WORKFLOW_TYPE, {
        taskQueue: productionQueue,
        workflowId: webhookWorkflowId(task.taskId),
        args: [input],
      });
    };

    it('picks up carried pending deliveries, gives up an event first failed 24 h ago, records it and sends the rest', async () => {
      const types = ['WORKFLOW_STARTED', 'PROGRESS', 'WORKFLOW_COMPLETED'];
      const task = await completedTask(types);
      const [delivered, givenUp, ...rest] = task.events;
      expect(rest.length).toBeGreaterThan(1);
      scripted.set('/given-up', [503]);
      const since = new Date(Date.now() - 24 * HOUR - 60_000).toISOString();
      const handle = await deliverFrom(task, '/given-up', types, {
        seq: delivered.seq,
        failures: 12,
        given_up: 0,
        retrying: {
          seq: givenUp.seq,
          since,
          attempts: 12,
          next_at: new Date(Date.now() - 1000).toISOString(),
        },
      });

      const recorded = { seq: rest.at(-1).seq, failures: 13, given_up: 1 };
      expect(await handle.result()).toEqual(recorded);
      expect((await handle.describe()).memo).toEqual({ deliveries: recorded });
      // The event was tried once more (503), given up, and every later one delivered in order.
      expectDelivered(task.taskId, '/given-up', [givenUp, ...rest]);
      expect(deliveriesTo('/given-up').map((r) => r.json.seq)).toEqual(
        [givenUp, ...rest].map((e) => e.seq),
      );
      expect(productionWorker.output()).toContain(
        `Task ${task.taskId}: event ${givenUp.seq} given up after 13 attempts to ${receiver.url} (last: answered 503)`,
      );
    });

    it('ends the session when a retry is due in over a minute and waits for it on a Temporal timer', async () => {
      const task = await completedTask(DEFAULT_TYPES);
      const [first] = task.events;
      scripted.set('/backoff', [503]);
      const since = new Date(Date.now() - 150_000).toISOString();
      // Four failures so far: the fifth waits 80 s (±20 %), more than a session waits itself.
      const handle = await deliverFrom(task, '/backoff', DEFAULT_TYPES, {
        seq: 0,
        failures: 4,
        given_up: 0,
        retrying: {
          seq: first.seq,
          since,
          attempts: 4,
          next_at: new Date(Date.now() - 1000).toISOString(),
        },
      });
      try {
        const timer = await waitFor('the timer to start', async () => {
          const events = (await handle.fetchHistory()).events ?? [];
          return (
            events.find((e) => e.timerStartedEventAttributes)?.timerStartedEventAttributes ??
            undefined
          );
        });
        const [attempt] = deliveriesTo('/backoff');
        const described = await handle.describe();
        const progress = described.memo?.deliveries as DeliveryProgress;
        expect(progress).toEqual({
          seq: 0,
          failures: 5,
          given_up: 0,
          retrying: { seq: first.seq, since, attempts: 5, next_at: expect.stringMatching(RFC3339) },
        });
        const wait = Date.parse(progress.retrying!.next_at) - attempt.receivedAt;
        expect(wait).toBeGreaterThanOrEqual(63_000);
        expect(wait).toBeLessThanOrEqual(97_000);
        const timerMs = Number(timer.startToFireTimeout?.seconds ?? 0) * 1000;
        expect(timerMs).toBeGreaterThanOrEqual(50_000);
        expect(timerMs).toBeLessThanOrEqual(96_000);
        // Waiting on the timer, not in an activity: no slot held, nothing sent meanwhile.
        expect(described.raw.pendingActivities ?? []).toEqual([]);
        expect(deliveriesTo('/backoff')).toHaveLength(1);
      } finally {
        await handle.terminate('test over');
      }
    });
  });

  describe('refused at submit', () => {
    const refused = async (target: TestApi, webhook: unknown) => {
      const res = await target.request('POST', '/api/v1/tasks', {
        json: { query: 'Summarize the quarterly report', webhook },
      });
      return { status: res.status, body: res.body };
    };
    const PRIVATE = {
      status: 400,
      body: {
        error: 'webhook.url must not point to a loopback, private or other non-public address',
      },
    };

    it('answers 400 for loopback and private targets without WEBHOOK_ALLOW_PRIVATE', async () => {
      for (const url of [
        `${receiver.url}/lifecycle`,
        'http://localhost:8080/hook',
        'http://10.1.2.3/hook',
        'https://192.168.0.10/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]:8080/hook',
        'http://[::ffff:127.0.0.1]/hook',
      ]) {
        expect({ url, ...(await refused(strictApi, { url })) }).toEqual({ url, ...PRIVATE });
      }
      // The same target is accepted where the flag is set.
      expect((await refused(api, { url: `${receiver.url}/accepted` })).status).toBe(200);
    });

    it('answers 400 naming the problem for malformed webhooks', async () => {
      expect(await refused(api, { url: 'ftp://example.com/hook' })).toEqual({
        status: 400,
        body: { error: 'webhook.url must be an http or https URL' },
      });
      expect(await refused(api, { url: 'not a url' })).toEqual({
        status: 400,
        body: { error: 'webhook.url must be an absolute http(s) URL' },
      });
      expect(await refused(api, {})).toEqual({
        status: 400,
        body: { error: 'webhook.url is required' },
      });
      expect(await refused(api, 'https://example.com')).toEqual({
        status: 400,
        body: { error: 'webhook must be an object with a url' },
      });
      expect(await refused(api, { url: `${receiver.url}/x`, events: ['LLM_PARTIAL'] })).toEqual({
        status: 400,
        body: {
          error:
            'webhook.events may only name task events: WORKFLOW_STARTED, PROGRESS, workflow.pausing, workflow.paused, workflow.resumed, workflow.cancelling, workflow.cancelled, WORKFLOW_COMPLETED, WORKFLOW_FAILED, APPROVAL_REQUESTED, APPROVAL_DECISION',
        },
      });
      expect(await refused(api, { url: `${receiver.url}/x`, events: [] })).toEqual({
        status: 400,
        body: { error: 'webhook.events must name at least one event type' },
      });
      expect(await refused(api, { url: 'http://user:pw@127.0.0.1/x' })).toEqual({
        status: 400,
        body: { error: 'webhook.url must not contain credentials' },
      });
    });
  });

  it('never writes WEBHOOK_SECRET to the logs of the API or the workers', async () => {
    // A secret the configuration refuses: the error names the variable, never the value.
    const refused = `whsec_${'not base64 but secret!'}`;
    const base = { ...temporalEnv(), TEMPORAL_TASK_QUEUE: `refused-${randomUUID()}` };
    const badWorker = startNodeProcess('worker', { ...base, WEBHOOK_SECRET: refused });
    const badApi = startNodeProcess('main', {
      ...base,
      PORT: String(await freePort()),
      API_KEYS_FILE: writeKeysFile(),
      WEBHOOK_SECRET: refused,
    });
    expect(await badWorker.exited).toBe(1);
    expect(await badApi.exited).toBe(1);
    for (const proc of [badWorker, badApi]) {
      expect(proc.output()).toContain('WEBHOOK_SECRET must look like whsec_<base64>');
      expect(proc.output()).not.toContain('not base64 but secret');
    }

    // The processes that ran this suite: submits on both routes, failed, hung, retried and
    // given-up deliveries, a worker killed mid-way.
    await apiProcess.stop();
    expect(apiProcess.output()).toContain('/api/v1/tasks/stream');
    expect(processes.length).toBeGreaterThanOrEqual(4);
    for (const proc of processes) {
      const output = proc.output();
      expect(output).not.toContain(SECRET);
      expect(output).not.toContain(SECRET.slice('whsec_'.length));
      expect(output).not.toContain(SECRET_KEY);
    }
    expect(worker.output()).toContain('retrying');
  });
});
