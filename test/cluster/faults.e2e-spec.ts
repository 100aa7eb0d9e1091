/**
 * Faults on the production shape (`npm run start:cluster`), each part killed as a crash would
 * kill it and brought back by the cluster's supervisor: the Temporal server, PostgreSQL, an API
 * instance behind the load balancer, a worker. Clients go through the load balancer throughout.
 * Nothing a client was told succeeded may be lost; no answer may be a 500.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientTlsEnv, makeCertificates } from '../../deploy/tls/certificates';
import { TestApi } from '../support/api';
import { withApiAndTemporal } from '../support/suite';
import { crash } from '../support/cluster';
import { temporalAddress } from '../support/e2e-env';
import { KEYS } from '../support/keys';
import { SseEvent, SseStream, followToDone } from '../support/sse';
import { TemporalObserver, expectEachStepCompletedOnce } from '../support/temporal';
import { waitFor } from '../support/wait';

const UNAVAILABLE = { error: 'Task service unavailable' };

describe('the cluster under faults', () => {
  let api: TestApi;
  let temporal: TemporalObserver;
  withApiAndTemporal((started, observer) => {
    api = started;
    temporal = observer;
  });

  const streamUrl = (taskId: string) => `${api.baseUrl}/api/v1/stream/sse?workflow_id=${taskId}`;
  const follow = (taskId: string) =>
    followToDone(streamUrl(taskId), { 'X-API-Key': KEYS.acmeWriter });
  const history = async (taskId: string) =>
    (await api.request('GET', `/api/v1/tasks/${taskId}/events?limit=200`)).body.events as unknown[];
  const ready = () =>
    waitFor(
      'the cluster to be ready',
      async () => (await api.request('GET', '/readiness', { key: null })).status === 200,
      90_000,
    );

  /** Every event once, in order, and the stream's last word `done`: no gap, no duplicate. */
  async function expectWholeStream(taskId: string, received: SseEvent[]) {
    const events = received.filter((e) => e.event !== 'done');
    expect(events.map((e) => JSON.parse(e.data))).toEqual(await history(taskId));
    expect(received.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
  }

  /** Polls a task's status until `until` resolves; every answer must be 200 or the 503. */
  async function answersDuring(taskId: string, until: Promise<unknown>): Promise<Set<number>> {
    const statuses = new Set<number>();
    let done = false;
    void until.finally(() => (done = true));
    while (!done) {
      const res = await api.request('GET', `/api/v1/tasks/${taskId}`);
      statuses.add(res.status);
      if (res.status !== 200) expect([res.status, res.body]).toEqual([503, UNAVAILABLE]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return statuses;
  }

  describe('the Temporal server killed (SIGKILL) mid-run', () => {
    let streams: SseStream[] = [];
    afterAll(() => streams.forEach((stream) => stream.close()));

    it('answers 503 meanwhile, then recovers: no task, signal or event lost, streams hold on', async () => {
      const running = [
        await api.submit({ steps: 4, step_duration_ms: 700 }),
        await api.submit({ steps: 4, step_duration_ms: 700 }),
      ];
      const paused = await api.submit({ steps: 3, step_duration_ms: 500 });
      await temporal.waitUntilStepRunning(paused, 1);
      expect((await api.request('POST', `/api/v1/tasks/${paused}/pause`)).status).toBe(202);
      // One connection each, through the load balancer, never reopened: each must outlive the
      // outage and end with `done` (a stream that ended without it could not resume).
      streams = await Promise.all(
        running.map((id) => SseStream.open(streamUrl(id), { 'X-API-Key': KEYS.acmeWriter })),
      );
      await temporal.waitUntilStepRunning(running[0], 2);
      for (const stream of streams) {
        await stream.waitForEvent((e) => e.id !== undefined);
      }

      const server = crash('temporal-server');
      const down = waitFor('a 503 from the load balancer', async () => {
        const res = await api.request('GET', `/api/v1/tasks/${running[0]}`);
        return res.status === 503 ? res : undefined;
      });
      expect((await down).body).toEqual(UNAVAILABLE);
      await server.restarted;
      const statuses = await answersDuring(running[1], ready());
      expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);

      expect(await api.status(paused)).toBe('TASK_STATUS_PAUSED');
      expect((await api.request('POST', `/api/v1/tasks/${paused}/resume`)).status).toBe(202);
      for (const id of [...running, paused]) {
        await api.waitForStatus(id, 'TASK_STATUS_COMPLETED', 90_000);
      }
      for (const [i, id] of running.entries()) {
        await streams[i].waitForEnd(60_000);
        await expectWholeStream(id, streams[i].received);
        await expectEachStepCompletedOnce(temporal, id, 4);
      }
      await expectEachStepCompletedOnce(temporal, paused, 3);
    });
  });

  describe('PostgreSQL stopped at once (crash recovery on restart)', () => {
    it('never answers 500, and every task completes with each step run once', async () => {
      const tasks = [
        await api.submit({ steps: 3, step_duration_ms: 600 }),
        await api.submit({ steps: 3, step_duration_ms: 600 }),
      ];
      const paused = await api.submit({ steps: 2, step_duration_ms: 400 });
      expect((await api.request('POST', `/api/v1/tasks/${paused}/pause`)).status).toBe(202);
      await temporal.waitUntilStepRunning(tasks[0], 1);

      // SIGQUIT: PostgreSQL's immediate shutdown, no checkpoint; a crash as far as data goes.
      const postgres = crash('postgres', 'SIGQUIT');
      await postgres.restarted;
      const statuses = await answersDuring(tasks[1], ready());
      expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);

      expect(await api.status(paused)).toBe('TASK_STATUS_PAUSED');
      expect((await api.request('POST', `/api/v1/tasks/${paused}/resume`)).status).toBe(202);
      for (const id of [...tasks, paused]) {
        await api.waitForStatus(id, 'TASK_STATUS_COMPLETED', 90_000);
      }
      for (const id of tasks) await expectEachStepCompletedOnce(temporal, id, 3);
    });
  });

  describe('an API instance killed (SIGKILL) behind the load balancer', () => {
    it('loses no request sent after it died, and its streams go on through the other', async () => {
      const tasks = await Promise.all(
        Array.from({ length: 4 }, () => api.submit({ steps: 3, step_duration_ms: 700 })),
      );
      // The load balancer sends new streams where the fewest are open: both instances get some.
      const streams = tasks.map((id) => follow(id));
      await temporal.waitUntilStepRunning(tasks[0], 1);

      const instance = crash('api-1');
      const answers = [];
      for (let i = 0; i < 20; i++)
        answers.push((await api.request('GET', `/api/v1/tasks/${tasks[i % 4]}`)).status);
      expect(answers).toEqual(Array.from({ length: 20 }, () => 200));

      const followed = await Promise.all(streams);
      for (const [i, id] of tasks.entries()) await expectWholeStream(id, followed[i].received);
      // Some stream was on the killed instance and had to connect again.
      expect(followed.some((f) => f.connections > 1)).toBe(true);
      await instance.restarted;
    });
  });

  describe('a worker killed (SIGKILL)', () => {
    it('loses no task: the other worker completes them, each step once', async () => {
      const tasks = await Promise.all(
        Array.from({ length: 4 }, () => api.submit({ steps: 3, step_duration_ms: 800 })),
      );
      await temporal.waitUntilStepRunning(tasks[0], 1);
      const worker = crash('worker-1');
      for (const id of tasks) await api.waitForStatus(id, 'TASK_STATUS_COMPLETED', 90_000);
      for (const id of tasks) await expectEachStepCompletedOnce(temporal, id, 3);
      await worker.restarted;
    });
  });

  describe('mutual TLS to Temporal', () => {
    const notReady = { status: 'not ready', checks: { temporal: 'failed' } };
    const readinessWith = async (env: Record<string, string>) => {
      const other = await TestApi.start({ temporalAddress: temporalAddress(), env });
      try {
        const res = await other.request('GET', '/readiness', { key: null });
        return [res.status, res.body];
      } finally {
        await other.close();
      }
    };

    it('serves a client with a certificate of the cluster CA', async () => {
      expect(await readinessWith({})).toEqual([
        200,
        { status: 'ready', checks: { temporal: 'ok' } },
      ]);
    });

    it('refuses a client without a certificate', async () => {
      expect(
        await readinessWith({ TEMPORAL_TLS_CERT_PATH: '', TEMPORAL_TLS_KEY_PATH: '' }),
      ).toEqual([503, notReady]);
    });

    it('refuses a client whose certificate another CA signed', async () => {
      const other = mkdtempSync(join(tmpdir(), 'task-api-other-ca-'));
      makeCertificates(other, 'some other CA');
      const { TEMPORAL_TLS_CERT_PATH, TEMPORAL_TLS_KEY_PATH } = clientTlsEnv(other);
      expect(await readinessWith({ TEMPORAL_TLS_CERT_PATH, TEMPORAL_TLS_KEY_PATH })).toEqual([
        503,
        notReady,
      ]);
    });

    it('refuses a client without TLS', async () => {
      expect(
        await readinessWith({
          TEMPORAL_TLS: 'false',
          TEMPORAL_TLS_CA_PATH: '',
          TEMPORAL_TLS_CERT_PATH: '',
          TEMPORAL_TLS_KEY_PATH: '',
        }),
      ).toEqual([503, notReady]);
    });
  });
});
