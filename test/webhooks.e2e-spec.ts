/**
 * Task webhooks against a real receiver this test starts: every event POSTed, signed (checked
 * with an independent implementation of Standard Webhooks), in seq order; retries of a failing
 * receiver; a worker killed while deliveries are pending; targets refused at submit. A worker
 * process of its own runs on a task queue of this suite, with short retry backoffs.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { TestApi } from './support/api';
import { temporalEnv } from './support/e2e-env';
import { NodeProcess, startWorkerProcess } from './support/processes';
import { RecordedRequest, RecordingServer, sendJson } from './support/recording-server';
import { verifyStandardWebhook } from './support/standard-webhooks';
import { waitFor } from './support/wait';

const SECRET = `whsec_${Buffer.from('the webhook secret of this suite').toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('not the secret of this suite').toString('base64')}`;

describe('Task webhooks', () => {
  const taskQueue = `webhooks-${randomUUID()}`;
  const workerEnv = {
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_ALLOW_PRIVATE: 'true',
    // Short backoffs so retries happen within the test; production waits seconds to an hour.
    WEBHOOK_RETRY_INITIAL_MS: '100',
    WEBHOOK_RETRY_MAX_MS: '400',
  };
  /** Answers for each path, in order; a path with none left answers 200. */
  const scripted = new Map<string, number[]>();
  /** Paths that answer 503 until released. */
  const held = new Set<string>();
  let receiver: RecordingServer;
  let worker: NodeProcess;
  let api: TestApi;
  /** Runs without WEBHOOK_ALLOW_PRIVATE, as production does. */
  let strictApi: TestApi;

  beforeAll(async () => {
    receiver = await RecordingServer.start((req: RecordedRequest, res: ServerResponse) => {
      const status = held.has(req.path) ? 503 : (scripted.get(req.path)?.shift() ?? 200);
      sendJson(res, status, status === 200 ? { ok: true } : { error: 'not now' });
    });
    worker = startWorkerProcess({
      address: temporalEnv().TEMPORAL_ADDRESS,
      taskQueue,
      env: workerEnv,
    });
    api = await TestApi.start({
      taskQueue,
      env: { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true' },
    });
    strictApi = await TestApi.start({ taskQueue, env: { WEBHOOK_SECRET: SECRET } });
  });

  afterAll(async () => {
    await api?.close();
    await strictApi?.close();
    await worker?.stop();
    await receiver?.close();
  });

  const submit = async (
    path: string,
    context: Record<string, unknown> = { steps: 2, step_duration_ms: 200 },
    events?: string[],
  ): Promise<string> => {
    const res = await api.request('POST', '/api/v1/tasks', {
      json: {
        query: 'Summarize the quarterly report',
        context,
        webhook: { url: `${receiver.url}${path}`, ...(events && { events }) },
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
    worker = startWorkerProcess({
      address: temporalEnv().TEMPORAL_ADDRESS,
      taskQueue,
      env: workerEnv,
    });
    held.delete('/held');
    await waitForDelivery('/held', 'WORKFLOW_COMPLETED', 60_000);

    const events = await eventsOf(taskId, DEFAULT_TYPES);
    expect(events.map((e) => e.type)).toEqual(['WORKFLOW_STARTED', 'WORKFLOW_COMPLETED']);
    expectDelivered(taskId, '/held', events);
    expect((await status(taskId)).webhook_failures).toBeGreaterThanOrEqual(3);
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
});
