/**
 * Event streams at scale, against a Temporal whose per-namespace long-poll limit is lowered so
 * that ~50 streamed tasks reach it: no stream is lost to the limit or to Temporal restarting,
 * workers keep working, and every stream gets every event once, in order, through `done`.
 */
import { Logger } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevServer, startDevServer } from '../src/temporal/dev-server';
import { resolveTemporalCli } from '../src/temporal/temporal-cli';
import { TestApi } from './support/api';
import { KEYS } from './support/keys';
import { freePort } from './support/ports';
import { NodeProcess, startWorkerProcess } from './support/processes';
import { SseStream } from './support/sse';
import { waitFor } from './support/wait';

/** Concurrent long polls Temporal allows per namespace here, the workers' own polls included. */
const NAMESPACE_LONG_POLLS = 40;
const TASKS = 50;

describe('event streams at a Temporal long-poll limit', () => {
  let server: DevServer;
  let options: Parameters<typeof startDevServer>[0];
  let worker: NodeProcess;
  /** Keeps its long polls well under the limit, as configured for production. */
  let bounded: TestApi;
  /** Asks for more long polls than Temporal allows: the refused ones must carry on. */
  let greedy: TestApi;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'task-api-streams-'));
    options = {
      cliPath: resolveTemporalCli(process.env.TEMPORAL_CLI_PATH, new Logger('e2e')),
      port: await freePort(),
      namespace: 'default',
      dbFile: join(dir, 'temporal.db'),
      logFile: join(dir, 'temporal-server.log'),
      dynamicConfig: { 'frontend.namespaceCount': NAMESPACE_LONG_POLLS },
    };
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

  const open = (api: TestApi, taskId: string) =>
    SseStream.open(`${api.baseUrl}/api/v1/tasks/${taskId}/stream`, {
      'X-API-Key': KEYS.acmeWriter,
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
