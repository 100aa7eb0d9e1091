/**
 * Soak: many tasks driven concurrently with random pause / resume / cancel commands through two
 * API instances. Every task must end in the state its accepted commands imply, with no 5xx and
 * no gap in its events. CI runs a shortened form; `npm run soak` runs 200 tasks.
 */
import { TestApi } from './support/api';
import { SseStream } from './support/sse';
import { TemporalObserver } from './support/temporal';
import { KEYS } from './support/keys';
import { startRedis } from './support/redis';
import { waitFor } from './support/wait';

const TASKS = Number(process.env.SOAK_TASKS ?? 40);
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 100_000);

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with SOAK_SEED. */
function random(seed: number): (n: number) => number {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const CONFLICTS = new Set([
  'cannot pause completed task',
  'cannot pause cancelled task',
  'task is already paused',
  'cannot resume completed task',
  'cannot resume cancelled task',
  'task is not paused',
]);

type Command = 'pause' | 'resume' | 'cancel';

interface Driven {
  taskId: string;
  accepted: Record<Command, number>;
  conflicts: number;
  /** The last of pause/resume that was accepted, unless a cancel was. */
  last?: Command;
}

describe(`soak: ${TASKS} tasks, random commands, two API instances (seed ${SEED})`, () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let apis: TestApi[];
  let temporal: TemporalObserver;

  beforeAll(async () => {
    // Two instances share their decisions through Redis, as deployed.
    redis = await startRedis();
    const env = { REDIS_URL: redis.url };
    apis = [await TestApi.start({ env }), await TestApi.start({ env })];
    temporal = await TemporalObserver.connect();
  });
  afterAll(async () => {
    await Promise.all(apis.map((a) => a.close()));
    await temporal.close();
    await redis.stop();
  });

  it('ends every task as its accepted commands imply, with no 5xx and no event gap', async () => {
    const rand = random(SEED);
    const serverErrors: string[] = [];
    const streams = new Map<string, SseStream>();

    const drive = async (i: number): Promise<Driven> => {
      const taskId = await apis[i % 2].submit({ steps: 3, step_duration_ms: 200 });
      if (i % 5 === 0) {
        // Watch some tasks live through the other instance.
        const url = `${apis[(i + 1) % 2].baseUrl}/api/v1/tasks/${taskId}/stream`;
        streams.set(taskId, await SseStream.open(url, { 'X-API-Key': KEYS.acmeReader }));
      }
      const driven: Driven = { taskId, accepted: { pause: 0, resume: 0, cancel: 0 }, conflicts: 0 };
      const commands = 1 + rand(5);
      for (let c = 0; c < commands; c++) {
        // Jitter between commands is the workload here, not a wait for state.
        await new Promise((r) => setTimeout(r, rand(300)));
        const roll = rand(10);
        const command: Command = roll < 5 ? 'pause' : roll < 9 ? 'resume' : 'cancel';
        const res = await apis[rand(2)].request('POST', `/api/v1/tasks/${taskId}/${command}`);
        if (res.status >= 500) serverErrors.push(`${command} ${taskId}: ${res.status} ${res.text}`);
        if (res.status === 202) {
          driven.accepted[command]++;
          if (command === 'cancel' || driven.last !== 'cancel') driven.last = command;
        } else if (res.status === 409) {
          driven.conflicts++;
          const message = res.body.error ?? res.body.message;
          if (
            !CONFLICTS.has(message) &&
            !/^Task is already in terminal state: (COMPLETED|CANCELLED)$/.test(message)
          ) {
            serverErrors.push(`${command} ${taskId}: unexpected 409 ${res.text}`);
          }
        } else {
          serverErrors.push(`${command} ${taskId}: unexpected ${res.status} ${res.text}`);
        }
      }
      return driven;
    };

    const driven = await Promise.all(Array.from({ length: TASKS }, (_, i) => drive(i)));
    expect(serverErrors).toEqual([]);

    const finals: Record<string, number> = {};
    let pausedTooLate = 0;
    for (const task of driven) {
      const api = apis[0];
      if (task.last === 'cancel') {
        await api.waitForStatus(task.taskId, 'TASK_STATUS_CANCELLED', 60_000);
      } else if (task.last === 'pause') {
        // A pause takes effect at the next checkpoint: the task waits there, unless the pause
        // came after its last checkpoint (pre_completion), when it simply completes.
        const held = await waitFor(
          `${task.taskId} to wait at a checkpoint or complete`,
          async () => {
            if ((await temporal.progress(task.taskId))?.waiting) return 'waiting';
            return (await api.status(task.taskId)) === 'TASK_STATUS_COMPLETED'
              ? 'completed'
              : undefined;
          },
          60_000,
        );
        if (held === 'waiting') {
          expect(await api.status(task.taskId)).toBe('TASK_STATUS_PAUSED');
          expect((await api.request('POST', `/api/v1/tasks/${task.taskId}/resume`)).status).toBe(
            202,
          );
          task.accepted.resume++;
          await api.waitForStatus(task.taskId, 'TASK_STATUS_COMPLETED', 60_000);
        } else {
          const events = (await api.request('GET', `/api/v1/tasks/${task.taskId}/events?limit=200`))
            .body.events as any[];
          const lastCheckpoint = events.find(
            (e) =>
              e.type === 'PROGRESS' &&
              e.checkpoint === 'pre_completion' &&
              e.message.startsWith('Checkpoint'),
          );
          const lastPause = events.filter((e) => e.type === 'workflow.pausing').at(-1);
          expect(lastPause.seq).toBeGreaterThan(lastCheckpoint.seq);
          pausedTooLate++;
        }
      } else {
        await api.waitForStatus(task.taskId, 'TASK_STATUS_COMPLETED', 60_000);
      }
      const status = await api.status(task.taskId);
      finals[status] = (finals[status] ?? 0) + 1;

      const events = (await api.request('GET', `/api/v1/tasks/${task.taskId}/events?limit=200`))
        .body.events as any[];
      const ids = events.map((e) => e.seq);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
      const count = (type: string) => events.filter((e) => e.type === type).length;
      expect({
        task: task.taskId,
        pausing: count('workflow.pausing'),
        resumed: count('workflow.resumed'),
        cancelling: count('workflow.cancelling'),
      }).toEqual({
        task: task.taskId,
        pausing: task.accepted.pause,
        resumed: task.accepted.resume,
        cancelling: Math.min(task.accepted.cancel, 1),
      });
      expect(events.at(-1).type).toBe(
        task.last === 'cancel' ? 'workflow.cancelled' : 'WORKFLOW_COMPLETED',
      );

      const stream = streams.get(task.taskId);
      if (stream) {
        await stream.waitForEnd(60_000);
        expect(stream.events).toEqual(events);
      }
    }

    const accepted = (command: Command) => driven.reduce((n, t) => n + t.accepted[command], 0);
    console.log(
      [
        `soak seed ${SEED}: ${TASKS} tasks through 2 API instances`,
        `accepted: ${accepted('pause')} pause, ${accepted('resume')} resume, ${accepted('cancel')} cancel`,
        `409 conflicts: ${driven.reduce((n, t) => n + t.conflicts, 0)}; 5xx: ${serverErrors.length}`,
        `final: ${JSON.stringify(finals)}; paused after the last checkpoint: ${pausedTooLate}`,
        `streams checked: ${streams.size}`,
      ].join('\n'),
    );
  });
});
