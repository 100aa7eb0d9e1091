/**
 * TASK_EXECUTOR=http against a real HTTP service this test starts: the calls it gets, their
 * bodies and signed headers, retries, failures, pause between steps and cancel during a call.
 * A worker process of its own runs the http executor on a task queue of this suite.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestApi } from './support/api';
import { temporalEnv } from './support/e2e-env';
import { NodeProcess, startNodeProcess } from './support/processes';
import { RecordingServer, sendJson } from './support/recording-server';
import { verifyStandardWebhook } from './support/standard-webhooks';
import { TemporalObserver } from './support/temporal';
import { waitFor } from './support/wait';

const SECRET = `whsec_${Buffer.from('a secret the service shares with the workers').toString('base64')}`;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PLAN = ['Collect the figures', 'Write the summary'];
const LONG_REFUSAL = JSON.stringify({ error: 'step two is not allowed', detail: 'x'.repeat(600) });
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('TASK_EXECUTOR=http', () => {
  const taskQueue = `http-executor-${randomUUID()}`;
  let service: RecordingServer;
  let worker: NodeProcess;
  let api: TestApi;
  let temporal: TemporalObserver;

  beforeAll(async () => {
    service = await RecordingServer.start(async (req, res) => {
      const body = req.json as Record<string, any>;
      const scenario = body?.context?.scenario as string | undefined;
      const sameCall = (path: string) =>
        service.matching(path, (j) => j.task_id === body.task_id && j.step === body.step);
      switch (req.path) {
        case '/plan':
          if (scenario === 'malformed-plan') return sendJson(res, 200, { steps: [] });
          return sendJson(res, 200, { steps: PLAN });
        case '/step':
          if (scenario === 'retry-503' && body.step === 1 && sameCall('/step').length === 1) {
            return sendJson(res, 503, { error: 'busy' }, { 'Retry-After': '3' });
          }
          if (scenario === 'reject-step-2' && body.step === 2) {
            return sendJson(res, 400, LONG_REFUSAL);
          }
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
    });
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

  it('ends the task FAILED on a 400, naming the call, the status and the first 500 characters of the body, without a retry', async () => {
    const taskId = await submit({ scenario: 'reject-step-2' });
    await api.waitForStatus(taskId, 'TASK_STATUS_FAILED');

    expect((await status(taskId)).error).toBe(
      `http executor: /step (step 2 of 2) answered 400: ${LONG_REFUSAL.slice(0, 500)}`,
    );
    expect(callsOf(taskId).map((c) => c.path)).toEqual(['/plan', '/step', '/step']);
  });

  it('ends the task FAILED on an answer that does not have the documented shape', async () => {
    const taskId = await submit({ scenario: 'malformed-plan' });
    await api.waitForStatus(taskId, 'TASK_STATUS_FAILED');

    expect((await status(taskId)).error).toBe(
      'http executor: /plan answered 200 without {"steps":[...]} with 1 to 50 strings: {"steps":[]}',
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
