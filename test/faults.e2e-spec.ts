/**
 * Faults with real processes: a worker killed with SIGKILL, the Temporal server stopped and
 * started again on the same database, the API restarted under a streaming client.
 */
import { randomUUID } from 'node:crypto';
import { DEVELOPMENT_KEY } from '../src/auth/key-store';
import { DevServer, startDevServer } from '../src/temporal/dev-server';
import { type DevServerOptions, devServerOptions } from './support/dev-server';
import { ApiClient, TestApi } from './support/api';
import { temporalAddress } from './support/e2e-env';
import { KEYS } from './support/keys';
import { freePort } from './support/ports';
import { NodeProcess, startNodeProcess, startWorkerProcess } from './support/processes';
import { SseStream } from './support/sse';
import { TemporalObserver, expectEachStepCompletedOnce } from './support/temporal';
import { waitFor } from './support/wait';

describe('a worker killed with SIGKILL', () => {
  const taskQueue = `faults-${randomUUID()}`;
  let api: TestApi;
  let temporal: TemporalObserver;
  const workers: NodeProcess[] = [];

  beforeAll(async () => {
    api = await TestApi.start({ taskQueue });
    temporal = await TemporalObserver.connect();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await api.close();
    await temporal.close();
  });

  it('loses no task: running and paused tasks complete on a new worker, each step once', async () => {
    workers.push(startWorkerProcess({ address: temporalAddress(), taskQueue }));
    const running = await api.submit({ steps: 3, step_duration_ms: 1500 });
    const paused = await api.submit({ steps: 3, step_duration_ms: 1500 });
    await temporal.waitUntilStepRunning(paused, 1);
    await api.request('POST', `/api/v1/tasks/${paused}/pause`);
    await temporal.waitUntilPausedAt(paused, 'pre_step_2');
    await temporal.waitUntilStepRunning(running, 2);

    await workers[0].kill();

    const resume = await api.request('POST', `/api/v1/tasks/${paused}/resume`);
    expect([resume.status, resume.body]).toEqual([
      202,
      { success: true, message: 'Resume signal sent', task_id: paused },
    ]);
    workers.push(startWorkerProcess({ address: temporalAddress(), taskQueue }));
    await api.waitForStatus(running, 'TASK_STATUS_COMPLETED', 60_000);
    await api.waitForStatus(paused, 'TASK_STATUS_COMPLETED', 60_000);
    await expectEachStepCompletedOnce(temporal, running, 3);
    await expectEachStepCompletedOnce(temporal, paused, 3);
  });
});

describe('the Temporal server stopped and started again on the same database', () => {
  let server: DevServer;
  let options: DevServerOptions;
  let worker: NodeProcess;
  let api: TestApi;
  let stream: SseStream | undefined;

  beforeAll(async () => {
    options = await devServerOptions('restart', { persist: true });
    server = await startDevServer(options);
    worker = startWorkerProcess({ address: server.address, taskQueue: 'tasks' });
    api = await TestApi.start({ temporalAddress: server.address, taskQueue: 'tasks' });
    // The interesting case: a worker that was running when Temporal went away.
    await waitFor('the worker to poll', () => worker.output().includes('Worker polling'));
  });
  afterAll(async () => {
    stream?.close();
    await api?.close();
    await worker?.stop();
    await server?.stop();
  });

  it('answers 503 quickly while it is down, recovers by itself, and keeps paused tasks paused', async () => {
    const tasks = [
      await api.submit({ steps: 2, step_duration_ms: 300 }),
      await api.submit({ steps: 2, step_duration_ms: 300 }),
    ];
    for (const id of tasks)
      expect((await api.request('POST', `/api/v1/tasks/${id}/pause`)).status).toBe(202);
    // One connection, never reopened: it must outlive the outage and end with `done`.
    const url = `${api.baseUrl}/api/v1/stream/sse?workflow_id=${tasks[0]}`;
    stream = await SseStream.open(url, { 'X-API-Key': KEYS.acmeWriter });
    await stream.waitForEvent((e) => e.event === 'workflow.paused');

    await server.stop();
    const started = Date.now();
    const readiness = await api.request('GET', '/readiness', { key: null });
    const status = await api.request('GET', `/api/v1/tasks/${tasks[0]}`);
    expect([readiness.status, readiness.body]).toEqual([
      503,
      { status: 'not ready', checks: { temporal: 'failed' } },
    ]);
    expect([status.status, status.body]).toEqual([503, { error: 'Task service unavailable' }]);
    expect(Date.now() - started).toBeLessThan(5_000);

    server = await startDevServer(options);
    await waitFor(
      'the API to be ready again',
      async () => (await api.request('GET', '/readiness', { key: null })).status === 200,
    );
    for (const id of tasks) {
      expect(await api.status(id)).toBe('TASK_STATUS_PAUSED');
      expect((await api.request('POST', `/api/v1/tasks/${id}/resume`)).status).toBe(202);
    }
    for (const id of tasks) await api.waitForStatus(id, 'TASK_STATUS_COMPLETED', 60_000);

    // The stream held on through the outage: every stored event once, in order, then done.
    await stream.waitForEnd(60_000);
    const stored = await api.request('GET', `/api/v1/tasks/${tasks[0]}/events?limit=200`);
    expect(stream.events).toEqual(stored.body.events);
    expect(stream.received.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
  });
});

describe('the API restarted under a streaming client', () => {
  it('ends the stream on SIGTERM, exits 0, and the client resumes from its last event id', async () => {
    const port = await freePort();
    const env = {
      NODE_ENV: 'development',
      PORT: String(port),
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: 'tasks-e2e',
    };
    const client = new ApiClient(`http://127.0.0.1:${port}`, DEVELOPMENT_KEY);
    const startApi = async (): Promise<NodeProcess> => {
      const proc = startNodeProcess('main', env);
      await waitFor(
        'the API to listen',
        async () => (await client.request('GET', '/health').catch(() => undefined))?.status === 200,
      );
      return proc;
    };
    let proc = await startApi();
    try {
      const taskId = await client.submit({ steps: 3, step_duration_ms: 800 });
      const url = `${client.baseUrl}/api/v1/stream/sse?workflow_id=${taskId}`;
      const first = await SseStream.open(url, { 'X-API-Key': DEVELOPMENT_KEY });
      await first.waitForEvent((e) => e.data.includes('Step 1 of 3 completed'));

      const stopping = Date.now();
      expect(await proc.stop('SIGTERM')).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(10_000);
      await first.waitForEnd();
      expect(first.received.some((e) => e.event === 'done')).toBe(false);

      proc = await startApi();
      const last = first.received.at(-1)!.id!;
      const second = await SseStream.open(url, {
        'X-API-Key': DEVELOPMENT_KEY,
        'Last-Event-ID': last,
      });
      await second.waitForEnd(60_000);

      const all = (await client.request('GET', `/api/v1/tasks/${taskId}/events?limit=200`)).body
        .events;
      expect([...first.events, ...second.events]).toEqual(all);
      expect(second.received.at(-1)?.event).toBe('done');
    } finally {
      await proc.stop();
    }
  });
});
