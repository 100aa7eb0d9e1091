/**
 * Event streams at scale, against a Temporal whose per-namespace long-poll limit is lowered so
 * that ~50 streamed tasks reach it: no stream is lost to the limit or to Temporal restarting,
 * workers keep working, and every stream gets every event once, in order, through `done`.
 */
import { randomUUID } from 'node:crypto';
import { DevServer, startDevServer } from '../src/temporal/dev-server';
import { type DevServerOptions, devServerOptions } from './support/dev-server';
import { TestApi } from './support/api';
import { KEYS } from './support/keys';
import { NodeProcess, startWorkerProcess } from './support/processes';
import { SseStream } from './support/sse';
import { startRedis } from './support/redis';
import { temporalAddress } from './support/e2e-env';
import { waitFor } from './support/wait';

/** Concurrent long polls Temporal allows per namespace here, the workers' own polls included. */
const NAMESPACE_LONG_POLLS = 40;
const TASKS = 50;

const open = (api: TestApi, taskId: string) =>
  SseStream.open(`${api.baseUrl}/api/v1/tasks/${taskId}/stream`, {
    'X-API-Key': KEYS.acmeWriter,
  });

describe('event streams at a Temporal long-poll limit', () => {
  let server: DevServer;
  let options: DevServerOptions;
  let worker: NodeProcess;
  /** Keeps its long polls well under the limit, as configured for production. */
  let bounded: TestApi;
  /** Asks for more long polls than Temporal allows: the refused ones must carry on. */
  let greedy: TestApi;

  beforeAll(async () => {
    options = await devServerOptions('streams', {
      persist: true,
      dynamicConfig: { 'frontend.namespaceCount': NAMESPACE_LONG_POLLS },
    });
    server = await startDevServer(options);
    worker = startWorkerProcess({ address: server.address, taskQueue: 'tasks' });
    const start = (maxLongPolls: number) =>
      TestApi.start({
        temporalAddress: server.address,
        taskQueue: 'tasks',
        env: { STREAM_MAX_LONG_POLLS: String(maxLongPolls) },
      });
    bounded = await start(10);
    greedy = await start(TASKS);
  });
  afterAll(async () => {
    await bounded?.close();
    await greedy?.close();
    await worker?.stop();
    await server?.stop();
  });

  it('keeps every stream, through a Temporal restart, to the end of its task', async () => {
    const taskIds = await Promise.all(
      Array.from({ length: TASKS }, () => bounded.submit({ steps: 3, step_duration_ms: 1500 })),
    );
    const streams = await Promise.all(
      taskIds.flatMap((taskId) => [open(bounded, taskId), open(greedy, taskId)]),
    );
    expect(streams.map((s) => s.status)).toEqual(streams.map(() => 200));
    await Promise.all(
      streams.map((stream) => stream.waitForEvent((e) => e.event === 'PROGRESS', 60_000)),
    );

    // Temporal goes away mid-stream and comes back on the same database.
    await server.stop();
    expect((await bounded.request('GET', '/health', { key: null })).status).toBe(200);
    server = await startDevServer(options);
    await waitFor(
      'the API to be ready again',
      async () => (await bounded.request('GET', '/readiness', { key: null })).status === 200,
    );

    await Promise.all(streams.map((stream) => stream.waitForEnd(120_000)));
    for (const [i, taskId] of taskIds.entries()) {
      const history = await bounded.request('GET', `/api/v1/tasks/${taskId}/events?limit=200`);
      const expected = history.body.events as { seq: number; type: string }[];
      expect(expected.at(-1)?.type).toBe('WORKFLOW_COMPLETED');
      for (const stream of [streams[2 * i], streams[2 * i + 1]]) {
        expect(stream.events).toEqual(expected);
        expect(stream.received.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
      }
    }
    expect((await bounded.request('GET', `/api/v1/tasks?limit=1`)).status).toBe(200);
  });
});

describe('event streams pushed by change notices through Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let worker: NodeProcess;
  let apis: TestApi[];
  const taskQueue = `notices-${randomUUID()}`;

  beforeAll(async () => {
    redis = await startRedis();
    worker = startWorkerProcess({
      address: temporalAddress(),
      taskQueue,
      env: { REDIS_URL: redis.url },
    });
    // No long polls, and no reading a task again unless a notice says it changed: every event
    // a stream gets here came because a worker or an instance announced it.
    const env = {
      REDIS_URL: redis.url,
      STREAM_MAX_LONG_POLLS: '0',
      STREAM_TAIL_READ_INTERVAL_MS: '3600000',
    };
    apis = [await TestApi.start({ taskQueue, env }), await TestApi.start({ taskQueue, env })];
  });
  afterAll(async () => {
    await Promise.all(apis.map((api) => api.close()));
    await worker.stop();
    await redis.stop();
  });

  it("follows a task on another instance from the worker's and the other instance's notices", async () => {
    const taskId = await apis[0].submit({ steps: 2, step_duration_ms: 300 });
    const stream = await open(apis[1], taskId);
    await stream.waitForEvent((e) => e.event === 'PROGRESS');
    // A decision on the first instance reaches the stream on the second.
    expect((await apis[0].request('POST', `/api/v1/tasks/${taskId}/pause`)).status).toBe(202);
    await stream.waitForEvent((e) => e.event === 'workflow.paused');
    expect((await apis[0].request('POST', `/api/v1/tasks/${taskId}/resume`)).status).toBe(202);
    await stream.waitForEnd();

    const history = await apis[0].request('GET', `/api/v1/tasks/${taskId}/events?limit=200`);
    expect(stream.events).toEqual(history.body.events);
    expect(stream.received.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
  });
});
