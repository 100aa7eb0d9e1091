/** W3C trace context carried into Temporal, and structured logs that never hold a secret. */
import { defaultPayloadConverter } from '@temporalio/common';
import { createServer } from 'node:http';
import type { temporal } from '@temporalio/proto';
import { ApiClient, TestApi } from './support/api';
import { withApiAndTemporal } from './support/suite';
import { temporalAddress } from './support/e2e-env';
import { KEYS, writeKeysFile } from './support/keys';
import { freePort } from './support/ports';
import { startNodeProcess } from './support/processes';
import { SseStream } from './support/sse';
import { TemporalObserver } from './support/temporal';
import { waitFor } from './support/wait';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCOMING = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

const traceIdIn = (
  header: temporal.api.common.v1.IHeader | null | undefined,
): string | undefined => {
  const payload = header?.fields?.traceparent;
  return payload
    ? TRACEPARENT.exec(defaultPayloadConverter.fromPayload<string>(payload))?.[1]
    : undefined;
};

describe('trace context', () => {
  let api: TestApi;
  let temporal: TemporalObserver;
  withApiAndTemporal((started, observer) => {
    api = started;
    temporal = observer;
  });

  it('continues an incoming traceparent into the workflow, its activities and signals', async () => {
    const res = await api.request('POST', '/api/v1/tasks', {
      headers: { traceparent: INCOMING },
      json: { query: 'traced', context: { steps: 2, step_duration_ms: 300 } },
    });
    const answered = TRACEPARENT.exec(res.headers.get('traceparent') ?? '');
    expect(answered?.[1]).toBe(TRACE_ID);
    expect(answered?.[2]).not.toBe('00f067aa0ba902b7');
    const taskId = res.body.task_id as string;

    const pauseTrace = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    await api.request('POST', `/api/v1/tasks/${taskId}/pause`, {
      headers: { traceparent: pauseTrace },
    });
    await api.request('POST', `/api/v1/tasks/${taskId}/resume`);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const events = await temporal.history(taskId);
    expect(traceIdIn(events[0].workflowExecutionStartedEventAttributes?.header)).toBe(TRACE_ID);
    const activities = events.flatMap((e) => e.activityTaskScheduledEventAttributes ?? []);
    expect(activities.map((a) => a.activityType?.name)).toEqual([
      'planTask',
      'runStep',
      'runStep',
      'synthesizeResult',
    ]);
    expect(activities.map((a) => traceIdIn(a.header))).toEqual(Array(4).fill(TRACE_ID));
    const signals = events.flatMap((e) => e.workflowExecutionSignaledEventAttributes ?? []);
    expect(signals.map((s) => [s.signalName, traceIdIn(s.header)])).toEqual([
      ['pause_v1', 'ab'.repeat(16)],
      ['resume_v1', expect.stringMatching(/^[0-9a-f]{32}$/)],
    ]);
  });

  it.each([
    ['no traceparent', undefined],
    ['a malformed one', '01-nothex-00f067aa0ba902b7-01'],
  ])('starts a new trace for %s', async (_, incoming) => {
    const res = await api.request('GET', '/health', {
      key: null,
      headers: incoming ? { traceparent: incoming } : {},
    });
    const answered = TRACEPARENT.exec(res.headers.get('traceparent') ?? '');
    expect(answered).not.toBeNull();
    expect(answered?.[1]).not.toBe(TRACE_ID);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('OpenTelemetry export', () => {
  it("exports each request as a span of the caller's trace to OTEL_EXPORTER_OTLP_ENDPOINT", async () => {
    // A stand-in collector on loopback: it records what arrives.
    const received: string[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as { port: number };
    // A real API process: the exporter loads its transport with a dynamic import, which
    // Jest's module sandbox does not allow.
    const apiPort = await freePort();
    const proc = startNodeProcess('main', {
      PORT: String(apiPort),
      TEMPORAL_ADDRESS: temporalAddress(),
      API_KEYS_FILE: writeKeysFile(),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_SERVICE_NAME: 'task-api-e2e',
    });
    const client = new ApiClient(`http://127.0.0.1:${apiPort}`);
    try {
      await waitFor(
        'the API to listen',
        async () => (await client.request('GET', '/health').catch(() => undefined))?.status === 200,
      );
      const res = await client.request('GET', '/api/v1/tasks?limit=1', {
        headers: { traceparent: INCOMING },
      });
      expect(TRACEPARENT.exec(res.headers.get('traceparent') ?? '')?.[1]).toBe(TRACE_ID);
    } finally {
      expect(await proc.stop()).toBe(0); // shutdown flushes the spans
      collector.close();
    }
    const exported = received.join('\n');
    expect(exported).toMatch(/^POST \/v1\/traces /);
    expect(exported).toContain(TRACE_ID);
    expect(exported).toContain('task-api-e2e');
    expect(exported).toContain('GET /api/v1/tasks');
  });
});

describe('structured logs', () => {
  it('logs one JSON line per request with its ids, tenant, task, route, status and duration; never a key', async () => {
    const port = await freePort();
    const proc = startNodeProcess('main', {
      NODE_ENV: 'production',
      LOG_FORMAT: 'json',
      PORT: String(port),
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: 'tasks-e2e',
      API_KEYS_FILE: writeKeysFile(),
    });
    const client = new ApiClient(`http://127.0.0.1:${port}`);
    try {
      await waitFor(
        'the API to listen',
        async () => (await client.request('GET', '/health').catch(() => undefined))?.status === 200,
      );
      const taskId = await client.submit({ steps: 1, step_duration_ms: 0 });
      await client.request('GET', `/api/v1/tasks/${taskId}`, {
        key: null,
        headers: { Authorization: `Bearer ${KEYS.acmeReader}` },
      });
      await client.request('GET', '/api/v1/tasks', { key: 'sk_wrong_but_secret_9f3a' });
      await client.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
      const stream = await SseStream.open(
        `${client.baseUrl}/api/v1/stream/sse?workflow_id=${taskId}&api_key=${KEYS.globexWriter}`,
      );
      expect(stream.status).toBe(404);
      await waitFor('the last request to be logged', () =>
        proc.output().includes('"/api/v1/stream/sse"'),
      );
    } finally {
      expect(await proc.stop()).toBe(0);
    }

    const output = proc.output();
    for (const secret of [
      KEYS.acmeWriter,
      KEYS.acmeReader,
      KEYS.globexWriter,
      'sk_wrong_but_secret_9f3a',
    ]) {
      expect(output).not.toContain(secret);
    }
    expect(output).not.toMatch(/authorization|x-api-key/i);

    const requests = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.context === 'HTTP')
      .map((entry) => entry.message);
    const submit = requests.find((r) => r.method === 'POST' && r.route === '/api/v1/tasks');
    expect(submit).toEqual({
      msg: 'request',
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      tenant: 'acme',
      task_id: expect.stringMatching(/^task_/),
      method: 'POST',
      route: '/api/v1/tasks',
      status: 200,
      duration_ms: expect.any(Number),
    });
    expect(requests).toContainEqual(
      expect.objectContaining({
        route: '/api/v1/tasks/:id',
        status: 200,
        tenant: 'acme',
        task_id: submit.task_id,
      }),
    );
    expect(requests).toContainEqual(
      expect.objectContaining({ route: '/api/v1/tasks', method: 'GET', status: 401 }),
    );
    expect(requests).toContainEqual(
      expect.objectContaining({
        route: '/api/v1/stream/sse',
        status: 404,
        tenant: 'globex',
        task_id: submit.task_id,
      }),
    );
  });
});
