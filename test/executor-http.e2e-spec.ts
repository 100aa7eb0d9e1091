/**
 * TASK_EXECUTOR=http against a real HTTP service this test starts: the calls it gets, their
 * bodies and signed headers, retries, failures, pause between steps and cancel during a call.
 * A worker process of its own runs the http executor on a task queue of this suite.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestApi } from './support/api';
import { freePortRange } from './support/ports';
import { temporalEnv } from './support/e2e-env';
import { NodeProcess, startNodeProcess } from './support/processes';
import { Handler, RecordingServer, sendJson } from './support/recording-server';
import { verifyStandardWebhook } from './support/standard-webhooks';
import { TemporalObserver, callAttempts } from './support/temporal';
import { waitFor } from './support/wait';

const SECRET = `whsec_${Buffer.from('a secret the service shares with the workers').toString('base64')}`;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PLAN = ['Collect the figures', 'Write the summary'];
const LONG_REFUSAL = JSON.stringify({ error: 'step two is not allowed', detail: 'x'.repeat(600) });
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const QUERY = 'Summarize the quarterly report';
const COMPLETED = {
  status: 'TASK_STATUS_COMPLETED',
  result: `Summary of 2 outputs: ${PLAN.map((d, i) => `Output of step ${i + 1}: ${d}`).join(' | ')}`,
};

/** The whole status body of a closed task submitted by these tests. */
const closed = (
  taskId: string,
  context: Record<string, unknown>,
  end: { status: string; result?: string; error?: string },
) => ({
  task_id: taskId,
  workflow_id: taskId,
  result: '',
  error: '',
  ...end,
  created_at: expect.stringMatching(RFC3339),
  updated_at: expect.stringMatching(RFC3339),
  completed_at: expect.stringMatching(RFC3339),
  query: QUERY,
  session_id: 'sess-1',
  mode: 'standard',
  context,
});

/** An answer over the executor's 2 MB cap, which the worker must refuse. */
const OVER_THE_CAP = JSON.stringify({ output: 'x'.repeat(2 * 1024 * 1024) });

/**
 * The team's service: what it answers depends on the task's `context.scenario`. `self` gives the
 * server it runs in, whose record tells a first call from a retry.
 */
const teamService =
  (self: () => RecordingServer): Handler =>
  async (req, res) => {
    const body = req.json as Record<string, any>;
    const scenario = body?.context?.scenario as string | undefined;
    const firstTry = () =>
      self().matching(req.path, (j) => j.task_id === body.task_id && j.step === body.step)
        .length === 1;
    switch (req.path) {
      case '/plan':
        if (scenario === 'malformed-plan') return sendJson(res, 200, { steps: [] });
        if (scenario === 'redirect-plan') {
          res.writeHead(302, { Location: '/v2/plan', 'Content-Type': 'text/plain' });
          return void res.end('Found. Redirecting to /v2/plan');
        }
        return sendJson(res, 200, { steps: PLAN });
      case '/step':
        if (body.step === 1 && firstTry()) {
          if (scenario === 'retry-503') {
            return sendJson(res, 503, { error: 'busy' }, { 'Retry-After': '3' });
          }
          if (scenario === 'retry-429') {
            return sendJson(res, 429, { error: 'slow down' }, { 'Retry-After': '2' });
          }
          // The connection ends with no answer, as when the service's process dies mid-call.
          if (scenario === 'reset-once') return void res.socket?.destroy();
          // Answers never: the worker's EXECUTOR_HTTP_TIMEOUT_MS has to end the call.
          if (scenario === 'outlast-timeout-once') return;
        }
        if (scenario === 'reject-step-2' && body.step === 2) {
          return sendJson(res, 400, LONG_REFUSAL);
        }
        if (scenario === 'too-large' && body.step === 1) return sendJson(res, 200, OVER_THE_CAP);
        if (scenario === 'hang') return; // answers never; only the caller can end it
        // The service's own work takes a while: long enough to pause during a step.
        if (scenario === 'slow') await sleep(1500);
        return sendJson(res, 200, { output: `Output of step ${body.step}: ${body.description}` });
      case '/synthesize':
        return sendJson(res, 200, {
          result: `Summary of ${body.outputs.length} outputs: ${body.outputs.join(' | ')}`,
        });
      default:
        return sendJson(res, 404, { error: 'no such route' });
    }
  };

describe('TASK_EXECUTOR=http', () => {
  const taskQueue = `http-executor-${randomUUID()}`;
  let service: RecordingServer;
  let worker: NodeProcess;
  let api: TestApi;
  let temporal: TemporalObserver;

  beforeAll(async () => {
    service = await RecordingServer.start(teamService(() => service));
    worker = startNodeProcess('worker', {
      ...temporalEnv(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      TASK_EXECUTOR: 'http',
      EXECUTOR_HTTP_URL: `${service.url}/`,
      EXECUTOR_HTTP_TIMEOUT_MS: '60000',
      WEBHOOK_SECRET: SECRET,
    });
    api = await TestApi.start({ taskQueue });
    temporal = await TemporalObserver.connect();
  });

  afterAll(async () => {
    await api?.close();
    await worker?.stop();
    await temporal?.close();
    await service?.close();
  });

  const submit = async (context: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await api.request('POST', '/api/v1/tasks', {
      json: { query: 'Summarize the quarterly report', context, session_id: 'sess-1' },
      headers,
    });
    expect(res.status).toBe(200);
    return res.body.task_id as string;
  };
  const callsOf = (taskId: string) => service.requests.filter((r) => r.json?.task_id === taskId);
  const status = async (taskId: string) =>
    (await api.request('GET', `/api/v1/tasks/${taskId}`)).body;

  it('POSTs plan, each step and synthesis with the documented bodies, keys, trace and signature', async () => {
    const taskId = await submit(
      { scenario: 'ok', region: 'emea' },
      { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
    );
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const calls = callsOf(taskId);
    const context = { scenario: 'ok', region: 'emea' };
    const query = 'Summarize the quarterly report';
    const outputs = PLAN.map((d, i) => `Output of step ${i + 1}: ${d}`);
    expect(calls.map((c) => [c.method, c.path, c.json])).toEqual([
      [
        'POST',
        '/plan',
        { task_id: taskId, query, context, mode: 'standard', session_id: 'sess-1' },
      ],
      [
        'POST',
        '/step',
        {
          task_id: taskId,
          query,
          context,
          step: 1,
          total: 2,
          description: PLAN[0],
          previous_outputs: [],
        },
      ],
      [
        'POST',
        '/step',
        {
          task_id: taskId,
          query,
          context,
          step: 2,
          total: 2,
          description: PLAN[1],
          previous_outputs: [outputs[0]],
        },
      ],
      ['POST', '/synthesize', { task_id: taskId, query, context, outputs }],
    ]);
    const keys = [
      `${taskId}:plan:0`,
      `${taskId}:step:1`,
      `${taskId}:step:2`,
      `${taskId}:synthesize:0`,
    ];
    expect(calls.map((c) => c.headers['idempotency-key'])).toEqual(keys);
    expect(calls.map((c) => c.headers['webhook-id'])).toEqual(keys);
    for (const call of calls) {
      expect(call.headers['content-type']).toBe('application/json');
      // The trace of the submit request, continued by the API.
      expect(call.headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
      expect(verifyStandardWebhook(call, SECRET)).toBe(true);
      // A check with another secret fails: the signature is really over this secret.
      expect(verifyStandardWebhook(call, `whsec_${Buffer.from('other').toString('base64')}`)).toBe(
        false,
      );
    }

    expect(await status(taskId)).toEqual({
      task_id: taskId,
      workflow_id: taskId,
      status: 'TASK_STATUS_COMPLETED',
      result: `Summary of 2 outputs: ${outputs.join(' | ')}`,
      error: '',
      created_at: expect.stringMatching(RFC3339),
      updated_at: expect.stringMatching(RFC3339),
      completed_at: expect.stringMatching(RFC3339),
      query,
      session_id: 'sess-1',
      mode: 'standard',
      context,
    });
  });

  it('retries a 503 after its Retry-After with the same idempotency key and body, then completes', async () => {
    const taskId = await submit({ scenario: 'retry-503' });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const firstSteps = callsOf(taskId).filter((c) => c.path === '/step' && c.json.step === 1);
    expect(firstSteps).toHaveLength(2);
    const [refused, retried] = firstSteps;
    expect(retried.headers['idempotency-key']).toBe(`${taskId}:step:1`);
    expect(refused.headers['idempotency-key']).toBe(retried.headers['idempotency-key']);
    expect(refused.headers['webhook-id']).toBe(retried.headers['webhook-id']);
    expect(retried.body).toBe(refused.body);
    expect(verifyStandardWebhook(retried, SECRET)).toBe(true);
    // Temporal's own first backoff is 1 s: the 3 s the service asked for were honoured.
    expect(retried.receivedAt - refused.receivedAt).toBeGreaterThanOrEqual(2900);
    expect(callsOf(taskId).map((c) => c.path)).toEqual([
      '/plan',
      '/step',
      '/step',
      '/step',
      '/synthesize',
    ]);
  });

  it('retries a 429 after its Retry-After, with the same idempotency key and body, then completes', async () => {
    const taskId = await submit({ scenario: 'retry-429' });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const [limited, retried, ...more] = callsOf(taskId).filter(
      (c) => c.path === '/step' && c.json.step === 1,
    );
    expect(more).toEqual([]);
    expect(retried.headers['idempotency-key']).toBe(`${taskId}:step:1`);
    expect(limited.headers['idempotency-key']).toBe(`${taskId}:step:1`);
    expect(retried.body).toBe(limited.body);
    // Temporal's own first backoff is 1 s: the 2 s the service asked for were honoured.
    expect(retried.receivedAt - limited.receivedAt).toBeGreaterThanOrEqual(1900);
    expect(callAttempts(await temporal.history(taskId), 'runStep', 1)).toEqual({
      attempt: 2,
      lastFailure: {
        message: 'http executor: /step (step 1 of 2) answered 429: {"error":"slow down"}',
        type: 'ExecutorUnavailable',
        nonRetryable: false,
      },
    });
    expect(await status(taskId)).toEqual(closed(taskId, { scenario: 'retry-429' }, COMPLETED));
  });

  it('retries a call whose connection the service dropped without an answer, then completes', async () => {
    const taskId = await submit({ scenario: 'reset-once' });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const [dropped, retried, ...more] = callsOf(taskId).filter(
      (c) => c.path === '/step' && c.json.step === 1,
    );
    expect(more).toEqual([]);
    expect(retried.headers['idempotency-key']).toBe(dropped.headers['idempotency-key']);
    expect(retried.body).toBe(dropped.body);
    expect(callAttempts(await temporal.history(taskId), 'runStep', 1)).toEqual({
      attempt: 2,
      lastFailure: {
        message: 'http executor: /step (step 1 of 2) could not be reached: other side closed',
        type: 'ExecutorUnavailable',
        nonRetryable: false,
      },
    });
    expect(await status(taskId)).toEqual(closed(taskId, { scenario: 'reset-once' }, COMPLETED));
  });

  it('ends the task FAILED on an answer over 2 MB, without a retry', async () => {
    const taskId = await submit({ scenario: 'too-large' });
    await api.waitForStatus(taskId, 'TASK_STATUS_FAILED');

    expect(await status(taskId)).toEqual(
      closed(
        taskId,
        { scenario: 'too-large' },
        {
          status: 'TASK_STATUS_FAILED',
          error: 'http executor: /step (step 1 of 2) answered 200 with more than 2097152 bytes',
        },
      ),
    );
    expect(callsOf(taskId).map((c) => c.path)).toEqual(['/plan', '/step']);
  });

  it('ends the task FAILED on a redirect, which it does not follow', async () => {
    const taskId = await submit({ scenario: 'redirect-plan' });
    await api.waitForStatus(taskId, 'TASK_STATUS_FAILED');

    expect(await status(taskId)).toEqual(
      closed(
        taskId,
        { scenario: 'redirect-plan' },
        {
          status: 'TASK_STATUS_FAILED',
          error: 'http executor: /plan answered 302: Found. Redirecting to /v2/plan',
        },
      ),
    );
    expect(callsOf(taskId).map((c) => c.path)).toEqual(['/plan']);
    expect(service.requests.filter((r) => r.path === '/v2/plan')).toEqual([]);
  });

  it('ends the task FAILED on a 400, naming the call, the status and the first 500 characters of the body, without a retry', async () => {
    const taskId = await submit({ scenario: 'reject-step-2' });
    await api.waitForStatus(taskId, 'TASK_STATUS_FAILED');

    expect(await status(taskId)).toEqual(
      closed(
        taskId,
        { scenario: 'reject-step-2' },
        {
          status: 'TASK_STATUS_FAILED',
          error: `http executor: /step (step 2 of 2) answered 400: ${LONG_REFUSAL.slice(0, 500)}`,
        },
      ),
    );
    expect(callsOf(taskId).map((c) => c.path)).toEqual(['/plan', '/step', '/step']);
  });

  it('ends the task FAILED on an answer that does not have the documented shape', async () => {
    const taskId = await submit({ scenario: 'malformed-plan' });
    await api.waitForStatus(taskId, 'TASK_STATUS_FAILED');

    expect(await status(taskId)).toEqual(
      closed(
        taskId,
        { scenario: 'malformed-plan' },
        {
          status: 'TASK_STATUS_FAILED',
          error:
            'http executor: /plan answered 200 without {"steps":[...]} with 1 to 50 strings: {"steps":[]}',
        },
      ),
    );
    expect(callsOf(taskId).map((c) => c.path)).toEqual(['/plan']);
  });

  it('makes no step call while the task is paused between steps', async () => {
    const taskId = await submit({ scenario: 'slow' });
    await service.waitForRequest('step 1', '/step', (j) => j.task_id === taskId && j.step === 1);
    const pause = await api.request('POST', `/api/v1/tasks/${taskId}/pause`, {
      json: { reason: 'hold' },
    });
    expect(pause.status).toBe(202);

    await temporal.waitUntilPausedAt(taskId, 'pre_step_2');
    expect(callsOf(taskId).map((c) => c.path)).toEqual(['/plan', '/step']);

    const resumedAt = Date.now();
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/resume`)).status).toBe(202);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    const second = callsOf(taskId).find((c) => c.path === '/step' && c.json.step === 2)!;
    expect(second.receivedAt).toBeGreaterThanOrEqual(resumedAt);
  });

  it('heartbeats while a call waits, and a cancel aborts the call', async () => {
    const taskId = await submit({ scenario: 'hang' });
    const call = await service.waitForRequest(
      'step 1',
      '/step',
      (j) => j.task_id === taskId && j.step === 1,
    );
    // The running step reports it is alive: a call longer than the 5 s heartbeat timeout
    // would otherwise be given up and retried.
    await waitFor('a heartbeat of step 1', async () => {
      const { raw } = await temporal.client.workflow.getHandle(taskId).describe();
      return raw.pendingActivities?.some((a) => a.heartbeatDetails?.payloads?.length);
    });

    const cancelledAt = Date.now();
    const cancel = await api.request('POST', `/api/v1/tasks/${taskId}/cancel`, {
      json: { reason: 'not needed' },
    });
    expect(cancel.status).toBe(202);
    await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
    // The worker hung up on the service long before its 60 s call timeout.
    await waitFor('the step call to be aborted', () => call.abortedAt, 10_000);
    expect(call.abortedAt! - cancelledAt).toBeLessThan(10_000);
    expect(callsOf(taskId).map((c) => c.path)).toEqual(['/plan', '/step']);
  });

  it('stops a worker whose configuration misses the URL or the signing secret, naming the variable', async () => {
    const base = { ...temporalEnv(), TASK_EXECUTOR: 'http' };
    const noUrl = startNodeProcess('worker', { ...base, WEBHOOK_SECRET: SECRET });
    const noSecret = startNodeProcess('worker', { ...base, EXECUTOR_HTTP_URL: service.url });
    expect(await noUrl.exited).toBe(1);
    expect(await noSecret.exited).toBe(1);
    expect(noUrl.output()).toContain(
      'Invalid configuration: EXECUTOR_HTTP_URL is required with TASK_EXECUTOR=http',
    );
    expect(noSecret.output()).toContain(
      'Invalid configuration: WEBHOOK_SECRET is required with TASK_EXECUTOR=http',
    );
  });
});

/**
 * A worker whose service is not listening yet (connections refused) and whose calls time out
 * after 2 s: Temporal retries both, with the same idempotency key, until the service answers.
 */
describe('TASK_EXECUTOR=http when the service is down or slow', () => {
  const taskQueue = `http-executor-${randomUUID()}`;
  const TIMEOUT_MS = 2000;
  let port: number;
  let late: Promise<RecordingServer> | undefined;
  let service: RecordingServer | undefined;
  let worker: NodeProcess;
  let api: TestApi;
  let temporal: TemporalObserver;

  /** The service, listening from the first call on. */
  const listening = () =>
    (late ??= RecordingServer.start(
      teamService(() => service!),
      port,
    ).then((started) => (service = started)));

  beforeAll(async () => {
    // Below the ephemeral range: no outgoing connection takes it before the service listens.
    port = await freePortRange(1);
    worker = startNodeProcess('worker', {
      ...temporalEnv(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      TASK_EXECUTOR: 'http',
      EXECUTOR_HTTP_URL: `http://127.0.0.1:${port}`,
      EXECUTOR_HTTP_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_SECRET: SECRET,
    });
    api = await TestApi.start({ taskQueue });
    temporal = await TemporalObserver.connect();
  });

  afterAll(async () => {
    await api?.close();
    await worker?.stop();
    await temporal?.close();
    await (await late)?.close();
  });

  const submit = async (scenario: string) => {
    const res = await api.request('POST', '/api/v1/tasks', {
      json: { query: QUERY, context: { scenario }, session_id: 'sess-1' },
    });
    expect(res.status).toBe(200);
    return res.body.task_id as string;
  };
  const status = async (taskId: string) =>
    (await api.request('GET', `/api/v1/tasks/${taskId}`)).body;

  it('retries a call whose connection is refused until the service listens, then completes', async () => {
    expect(late).toBeUndefined();
    const taskId = await submit('ok');
    const refused = {
      message: `http executor: /plan could not be reached: connect ECONNREFUSED 127.0.0.1:${port}`,
      type: 'ExecutorUnavailable',
      nonRetryable: false,
    };
    // Temporal holds the failure of the last attempt while it waits to retry.
    const pending = await waitFor('a refused plan call waiting for its retry', async () => {
      const { raw } = await temporal.client.workflow.getHandle(taskId).describe();
      const failure = raw.pendingActivities?.[0]?.lastFailure;
      return failure ? { attempt: raw.pendingActivities![0].attempt, failure } : undefined;
    });
    expect(pending.attempt).toBeGreaterThanOrEqual(2);
    expect({
      message: pending.failure.message,
      type: pending.failure.applicationFailureInfo?.type,
      nonRetryable: pending.failure.applicationFailureInfo?.nonRetryable ?? false,
    }).toEqual(refused);

    await listening();
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    const plan = callAttempts(await temporal.history(taskId), 'planTask');
    expect(plan.attempt).toBeGreaterThanOrEqual(2);
    expect(plan.lastFailure).toEqual(refused);
    // The first attempt that reached the service was the one that answered.
    expect(service!.requests.filter((r) => r.json?.task_id === taskId).map((r) => r.path)).toEqual([
      '/plan',
      '/step',
      '/step',
      '/synthesize',
    ]);
    expect(await status(taskId)).toEqual(closed(taskId, { scenario: 'ok' }, COMPLETED));
  });

  it('gives up a call after EXECUTOR_HTTP_TIMEOUT_MS and retries it with the same key, then completes', async () => {
    await listening();
    const taskId = await submit('outlast-timeout-once');
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const [slow, retried, ...more] = service!.matching(
      '/step',
      (j) => j.task_id === taskId && j.step === 1,
    );
    expect(more).toEqual([]);
    // The worker hung up on the unanswered call once its time was up, not before.
    expect(slow.abortedAt! - slow.receivedAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 500);
    expect(retried.receivedAt).toBeGreaterThanOrEqual(slow.abortedAt!);
    expect(retried.headers['idempotency-key']).toBe(`${taskId}:step:1`);
    expect(slow.headers['idempotency-key']).toBe(`${taskId}:step:1`);
    expect(retried.body).toBe(slow.body);
    expect(callAttempts(await temporal.history(taskId), 'runStep', 1)).toEqual({
      attempt: 2,
      lastFailure: {
        message: `http executor: /step (step 1 of 2) timed out after ${TIMEOUT_MS} ms`,
        type: 'ExecutorTimeout',
        nonRetryable: false,
      },
    });
    expect(await status(taskId)).toEqual(
      closed(taskId, { scenario: 'outlast-timeout-once' }, COMPLETED),
    );
  });
});
