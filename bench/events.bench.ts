/**
 * Event stream benchmark: how long after Temporal records an event a subscribed
 * client receives it, and what each open stream costs the API in memory.
 *
 *   npm run bench:events            (TASKS=20 STREAMS=500 by default)
 */
import { randomUUID } from 'node:crypto';
import { SseStream } from '../test/support/sse';
import {
  mb,
  percentile,
  rssBytes,
  startApi,
  startTemporal,
  startWorker,
  runBenchmark,
} from './stack';

const TASKS = Number(process.env.TASKS ?? 20);
const STREAMS = Number(process.env.STREAMS ?? 500);

async function latency(
  apiUrl: string,
  key: string,
  submit: (context: object) => Promise<string>,
): Promise<number[]> {
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: TASKS }, async () => {
      const taskId = await submit({ steps: 5, step_duration_ms: 200 });
      const opened = Date.now();
      const stream = await SseStream.open(`${apiUrl}/api/v1/stream/sse?workflow_id=${taskId}`, {
        'X-API-Key': key,
      });
      const seen = new Set<string>();
      const arrival = new Map<string, number>();
      const timer = setInterval(() => {
        for (const e of stream.received) {
          if (e.id && !seen.has(e.id)) {
            seen.add(e.id);
            arrival.set(e.id, Date.now());
          }
        }
      }, 1);
      await stream.waitForEnd(60_000);
      clearInterval(timer);
      for (const event of stream.events) {
        const recorded = Date.parse(event.timestamp);
        // Events recorded before we subscribed were replayed, not delivered live.
        if (recorded >= opened)
          samples.push((arrival.get(String(event.seq)) ?? Date.now()) - recorded);
      }
    }),
  );
  return samples;
}

async function main(): Promise<void> {
  const stack = await startTemporal();
  const taskQueue = `bench-${randomUUID()}`;
  const worker = startWorker(stack.temporalAddress, taskQueue);
  const api = await startApi(stack.temporalAddress, taskQueue);
  try {
    const submit = async (context: object): Promise<string> => {
      const res = await api.client.request('POST', '/api/v1/tasks', {
        json: { query: 'bench', context },
      });
      if (res.status !== 200) throw new Error(`submit: ${res.status} ${res.text}`);
      return res.body.task_id as string;
    };
    await latency(api.url, api.key, submit); // warm-up
    const samples = await latency(api.url, api.key, submit);

    // Idle streams: tasks on a queue no worker polls, so they stay open and quiet.
    const idleQueue = `bench-idle-${randomUUID()}`;
    const idleApi = await startApi(stack.temporalAddress, idleQueue);
    const idleSubmit = async (): Promise<string> => {
      const res = await idleApi.client.request('POST', '/api/v1/tasks', {
        json: { query: 'idle' },
      });
      return res.body.task_id as string;
    };
    const ids = await Promise.all(Array.from({ length: STREAMS }, idleSubmit));
    const warm = await SseStream.open(`${idleApi.url}/api/v1/stream/sse?workflow_id=${ids[0]}`, {
      'X-API-Key': idleApi.key,
    });
    await warm.waitForEvent((e) => e.event === 'WORKFLOW_STARTED');
    warm.close();
    // Open the streams in two halves and take the slope between them, so one-off growth
    // (V8's young generation, connection pools) does not count as a per-stream cost.
    const open = async (batch: string[]): Promise<SseStream[]> => {
      const opened = await Promise.all(
        batch.map((id) =>
          SseStream.open(`${idleApi.url}/api/v1/stream/sse?workflow_id=${id}`, {
            'X-API-Key': idleApi.key,
          }),
        ),
      );
      await Promise.all(
        opened.map((s) => s.waitForEvent((e) => e.event === 'WORKFLOW_STARTED', 60_000)),
      );
      return opened;
    };
    const idle = rssBytes(idleApi.process.pid);
    const half = Math.floor(STREAMS / 2);
    const streams = await open(ids.slice(0, half));
    const before = rssBytes(idleApi.process.pid);
    streams.push(...(await open(ids.slice(half))));
    const after = rssBytes(idleApi.process.pid);
    for (const s of streams) s.close();
    await idleApi.process.stop();

    const perStream = (after - before) / (STREAMS - half);
    const rows = [
      ['event delivery p50', `${percentile(samples, 50)} ms`, '≤ 100 ms'],
      ['event delivery p99', `${percentile(samples, 99)} ms`, ''],
      ['events measured', String(samples.length), ''],
      [
        `API RSS: idle → ${half} → ${STREAMS} open streams`,
        `${mb(idle)} → ${mb(before)} → ${mb(after)}`,
        '',
      ],
      ['memory per open stream', `${(perStream / 1024).toFixed(1)} KB`, '< 100 KB'],
    ];
    console.log('\n| measure | result | target |\n| --- | --- | --- |');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  } finally {
    await api.process.stop();
    await worker.stop();
    await stack.stop();
  }
}

runBenchmark(main);
