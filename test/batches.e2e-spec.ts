/**
 * Bulk control: POST /api/v1/tasks/batch and GET /api/v1/batches/{id}, run by a worker that
 * shares Redis with the API (as in production), against 50 tasks of one session beside tasks
 * of another session and of another tenant.
 */
import { randomUUID } from 'node:crypto';
import { ApiClient, ApiResponse, TestApi } from './support/api';
import { temporalAddress, temporalEnv } from './support/e2e-env';
import { KEYS, writeKeysFile } from './support/keys';
import { freePort } from './support/ports';
import { NodeProcess, startNodeProcess, startWorkerProcess } from './support/processes';
import { startRedis } from './support/redis';
import { TemporalObserver, signalNames } from './support/temporal';
import { waitFor } from './support/wait';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const BATCH_ID = /^batch_[0-9a-f-]{36}$/;
/** Long enough to be running (or paused) through every batch below, however loaded the machine. */
const CONTEXT = { steps: 4, step_duration_ms: 30_000 };

describe('bulk control', () => {
  const taskQueue = `batches-${randomUUID()}`;
  const session = `batch-${randomUUID()}`;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let worker: NodeProcess;
  let api: TestApi;
  let temporal: TemporalObserver;
  /** The 50 tasks of `session` of tenant acme, and the ones no batch may touch. */
  let mine: string[];
  let otherSession: string[];
  let otherTenant: string[];
  /** Before the first and after the last of them was created. */
  let createdFrom: string;
  let createdUntil: string;

  const submit = async (sessionId: string, key: string = KEYS.acmeWriter): Promise<string> => {
    const res = await api.request('POST', '/api/v1/tasks', {
      key,
      json: { query: 'Monthly report', session_id: sessionId, context: CONTEXT },
    });
    expect(res.status).toBe(200);
    return res.body.task_id as string;
  };
  const batch = (body: unknown, key: string = KEYS.acmeWriter, client: ApiClient = api) =>
    client.request('POST', '/api/v1/tasks/batch', { key, json: body });
  const completed = (batchId: string, client: ApiClient = api): Promise<ApiResponse> =>
    waitFor(`batch ${batchId} to complete`, async () => {
      const res = await client.request('GET', `/api/v1/batches/${batchId}`);
      return res.body?.state === 'completed' ? res : undefined;
    });
  const actionsOf = async (taskId: string) =>
    (await api.request('GET', `/api/v1/tasks/${taskId}/actions`)).body.actions as Record<
      string,
      unknown
    >[];

  beforeAll(async () => {
    redis = await startRedis();
    worker = startWorkerProcess({
      address: temporalAddress(),
      taskQueue,
      env: { REDIS_URL: redis.url },
    });
    api = await TestApi.start({ taskQueue, env: { REDIS_URL: redis.url } });
    temporal = await TemporalObserver.connect();
    createdFrom = new Date(Date.now() - 1000).toISOString();
    [mine, otherSession, otherTenant] = await Promise.all([
      Promise.all(Array.from({ length: 50 }, () => submit(session))),
      Promise.all(Array.from({ length: 3 }, () => submit(`${session}-other`))),
      Promise.all(Array.from({ length: 3 }, () => submit(session, KEYS.globexWriter))),
    ]);
    createdUntil = new Date(Date.now() + 1000).toISOString();
  });
  afterAll(async () => {
    const open = [...(mine ?? []), ...(otherSession ?? [])];
    await Promise.all(open.map((id) => api.request('POST', `/api/v1/tasks/${id}/cancel`)));
    await Promise.all(
      (otherTenant ?? []).map((id) =>
        api.request('POST', `/api/v1/tasks/${id}/cancel`, { key: KEYS.globexWriter }),
      ),
    );
    await worker?.stop();
    await api?.close();
    await temporal?.close();
    await redis?.stop();
  });

  it("counts a dry run from the caller's tenant only, and sends nothing", async () => {
    const dryRun = { action: 'pause', filter: { session_id: session }, dry_run: true };
    // Visibility records new tasks within moments.
    await waitFor('the 50 tasks to be visible', async () => {
      const res = await batch(dryRun);
      return res.body.matched === 50 ? res : undefined;
    });
    expect(await batch(dryRun)).toMatchObject({ status: 200, body: { matched: 50 } });
    // The other tenant's tasks (same session ID) are counted for it alone, once visible too.
    expect(
      await waitFor("the other tenant's 3 tasks to be visible", async () => {
        const res = await batch(dryRun, KEYS.globexWriter);
        return res.body.matched === 3 ? res : undefined;
      }),
    ).toMatchObject({ status: 200, body: { matched: 3 } });
    const running = { ...dryRun, filter: { session_id: session, status: 'running' } };
    await waitFor(
      'visibility to record them running',
      async () => (await batch(running)).body.matched === 50,
    );
    const ids = { ...dryRun, filter: { task_ids: [...mine.slice(0, 2), otherTenant[0]] } };
    expect((await batch(ids)).body).toEqual({ matched: 2 });
    const created = (created_after: string, created_before: string) => ({
      ...dryRun,
      filter: { session_id: session, created_after, created_before },
    });
    expect((await batch(created(createdFrom, createdUntil))).body).toEqual({ matched: 50 });
    expect((await batch(created(createdUntil, '2999-01-01T00:00:00Z'))).body).toEqual({
      matched: 0,
    });
    // As many IDs as a filter takes, most of them unknown.
    const unknown = Array.from({ length: 950 }, (_, i) => `task_${randomUUID()}-${i}`);
    const many = { ...dryRun, filter: { task_ids: [...mine, ...unknown] } };
    expect((await batch(many)).body).toEqual({ matched: 50 });
    for (const taskId of [...mine, ...otherSession, ...otherTenant]) {
      expect(signalNames(await temporal.history(taskId))).toEqual([]);
    }
  });

  it('pauses the 50 running tasks of one session, and nothing of another session or tenant', async () => {
    const res = await batch({
      action: 'pause',
      filter: { session_id: session },
      reason: 'maintenance window',
    });

    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      batch_id: expect.stringMatching(BATCH_ID),
      action: 'pause',
      matched: 50,
      state: 'running',
    });
    const batchId = res.body.batch_id as string;
    expect(res.headers.get('location')).toBe(`/api/v1/batches/${batchId}`);
    expect((await completed(batchId)).body).toEqual({
      batch_id: batchId,
      action: 'pause',
      state: 'completed',
      matched: 50,
      succeeded: 50,
      skipped: 0,
      failed: 0,
      started_at: expect.stringMatching(RFC3339),
      closed_at: expect.stringMatching(RFC3339),
    });
    const statuses = await Promise.all(mine.map((taskId) => api.status(taskId)));
    expect(new Set(statuses)).toEqual(new Set(['TASK_STATUS_PAUSED']));
    for (const taskId of [...otherSession, ...otherTenant]) {
      expect(signalNames(await temporal.history(taskId))).toEqual([]);
    }
    expect((await actionsOf(mine[0]))[1]).toEqual({
      action: 'batch_pause',
      actor: 'alice',
      key_name: 'acme-writer',
      reason: 'maintenance window',
      at: expect.stringMatching(RFC3339),
      request_id: res.headers.get('x-request-id'),
      trace_id: res.headers.get('traceparent')!.split('-')[1],
      batch_id: batchId,
    });
    // Another tenant cannot see the batch.
    expect(
      await api.request('GET', `/api/v1/batches/${batchId}`, { key: KEYS.globexWriter }),
    ).toMatchObject({ status: 404, body: { error: 'Batch not found' } });
  });

  it('resume skips the tasks that are not paused, and the counts add up', async () => {
    const resumedAlone = mine.slice(0, 5);
    const cancelledAlone = mine.slice(5, 10);
    for (const taskId of resumedAlone) {
      expect((await api.request('POST', `/api/v1/tasks/${taskId}/resume`)).status).toBe(202);
    }
    for (const taskId of cancelledAlone) {
      expect((await api.request('POST', `/api/v1/tasks/${taskId}/cancel`)).status).toBe(202);
    }

    const res = await batch({ action: 'resume', filter: { session_id: session } });

    expect([res.status, res.body]).toEqual([
      202,
      {
        batch_id: expect.stringMatching(BATCH_ID),
        action: 'resume',
        matched: 50,
        state: 'running',
      },
    ]);
    const batchId = res.body.batch_id as string;
    expect((await completed(batchId)).body).toEqual({
      batch_id: batchId,
      action: 'resume',
      state: 'completed',
      matched: 50,
      succeeded: 40,
      skipped: 10,
      failed: 0,
      started_at: expect.stringMatching(RFC3339),
      closed_at: expect.stringMatching(RFC3339),
    });
    expect((await actionsOf(mine[20])).map((a) => [a.action, a.batch_id])).toEqual([
      ['submit', undefined],
      ['batch_pause', expect.stringMatching(BATCH_ID)],
      ['batch_resume', batchId],
    ]);
    expect((await actionsOf(resumedAlone[0])).map((a) => a.action)).toEqual([
      'submit',
      'batch_pause',
      'resume',
    ]);
    for (const taskId of mine.slice(10))
      expect(await api.status(taskId)).not.toBe('TASK_STATUS_PAUSED');
  });

  it('acts only on the tasks its status filter matches', async () => {
    const sessionId = `${session}-status`;
    const tasks = await Promise.all(Array.from({ length: 4 }, () => submit(sessionId)));
    const [paused, running] = [tasks.slice(0, 2), tasks.slice(2)];
    try {
      for (const taskId of paused) {
        expect((await api.request('POST', `/api/v1/tasks/${taskId}/pause`)).status).toBe(202);
      }
      const filter = { session_id: sessionId, status: 'paused' };
      // Visibility records what the workflows did within moments: the batch reads it.
      await waitFor('visibility to record 2 paused and 2 running', async () => {
        const counts = await Promise.all(
          ['paused', 'running'].map(
            async (status) =>
              (await batch({ action: 'cancel', filter: { ...filter, status }, dry_run: true })).body
                .matched,
          ),
        );
        return counts[0] === 2 && counts[1] === 2;
      });

      const res = await batch({ action: 'cancel', filter, reason: 'paused too long' });

      expect([res.status, res.body]).toEqual([
        202,
        {
          batch_id: expect.stringMatching(BATCH_ID),
          action: 'cancel',
          matched: 2,
          state: 'running',
        },
      ]);
      const batchId = res.body.batch_id as string;
      expect((await completed(batchId)).body).toEqual({
        batch_id: batchId,
        action: 'cancel',
        state: 'completed',
        matched: 2,
        succeeded: 2,
        skipped: 0,
        failed: 0,
        started_at: expect.stringMatching(RFC3339),
        closed_at: expect.stringMatching(RFC3339),
      });
      for (const taskId of paused) {
        await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
        expect((await actionsOf(taskId)).map((a) => [a.action, a.batch_id])).toEqual([
          ['submit', undefined],
          ['pause', undefined],
          ['batch_cancel', batchId],
        ]);
      }
      for (const taskId of running) {
        expect(await api.status(taskId)).toBe('TASK_STATUS_RUNNING');
        expect(signalNames(await temporal.history(taskId))).toEqual([]);
      }
    } finally {
      await Promise.all(running.map((id) => api.request('POST', `/api/v1/tasks/${id}/cancel`)));
    }
  });

  it('completes a batch whose API was killed right after accepting it', async () => {
    const port = await freePort();
    const env = {
      PORT: String(port),
      ...temporalEnv(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      API_KEYS_FILE: writeKeysFile(),
      REDIS_URL: redis.url,
      RATE_LIMIT_PER_MINUTE: '0',
    };
    const client = new ApiClient(`http://127.0.0.1:${port}`, KEYS.acmeWriter);
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
      const res = await batch(
        { action: 'cancel', filter: { session_id: session }, reason: 'quarter closed' },
        KEYS.acmeOperator,
        client,
      );
      expect(res.body).toMatchObject({ action: 'cancel', matched: 50, state: 'running' });
      await proc.kill();
      proc = await startApi();

      const batchId = res.body.batch_id as string;
      const done = (await completed(batchId, client)).body;
      expect(done.succeeded + done.skipped + done.failed).toBe(50);
      expect(done.failed).toBe(0);
      // Exactly the tasks the batch cancelled say so in their audit trail, and ended so: the 5
      // cancelled before were skipped, and so would be any that completed meanwhile.
      const closed = new Set(['TASK_STATUS_CANCELLED', 'TASK_STATUS_COMPLETED']);
      const statuses = await waitFor('every task to close', async () => {
        const now = await Promise.all(mine.map((taskId) => api.status(taskId)));
        return now.every((status) => closed.has(status)) ? now : undefined;
      });
      const cancelledByBatch: string[] = [];
      for (const [i, taskId] of mine.entries()) {
        const actions = await actionsOf(taskId);
        if (actions.some((a) => a.action === 'batch_cancel' && a.batch_id === batchId)) {
          cancelledByBatch.push(taskId);
          expect([taskId, statuses[i]]).toEqual([taskId, 'TASK_STATUS_CANCELLED']);
        }
      }
      expect(cancelledByBatch).toHaveLength(done.succeeded);
      expect(cancelledByBatch).not.toContain(mine[5]);
    } finally {
      await proc.stop();
    }
  });

  it('refuses a request it cannot carry out, naming the problem', async () => {
    const cases: [unknown, string][] = [
      [{ filter: { session_id: session } }, 'action must be one of pause, resume, cancel'],
      [
        { action: 'restart', filter: { session_id: session } },
        'action must be one of pause, resume, cancel',
      ],
      [{ action: 'pause' }, 'filter is required'],
      [{ action: 'pause', filter: [] }, 'filter must be an object'],
      [
        { action: 'pause', filter: {} },
        'filter needs at least one of status, session_id, created_after, created_before, task_ids',
      ],
      [{ action: 'pause', filter: { status: 'sleeping' } }, 'Invalid status value'],
      [{ action: 'pause', filter: { session_id: 'a b' } }, 'Invalid session_id format'],
      [
        { action: 'pause', filter: { created_after: 'yesterday' } },
        'created_after must be an RFC 3339 date-time',
      ],
      [
        { action: 'pause', filter: { created_before: '2026-06-30T23:59:60Z' } },
        'created_before must be an RFC 3339 date-time',
      ],
      [{ action: 'pause', filter: { task_ids: [] } }, 'task_ids must hold 1 to 1000 task IDs'],
      [
        { action: 'pause', filter: { task_ids: Array.from({ length: 1001 }, (_, i) => `t${i}`) } },
        'task_ids must hold 1 to 1000 task IDs',
      ],
      [
        { action: 'pause', filter: { task_ids: ["x' OR '1'='1"] } },
        'task_ids holds an invalid task ID',
      ],
      [
        { action: 'pause', filter: { session_id: session }, dry_run: 'yes' },
        'dry_run must be true or false',
      ],
    ];
    for (const [body, error] of cases) {
      const res = await batch(body);
      expect([body, res.status, res.body]).toEqual([body, 400, { error }]);
    }
    expect(
      await api.request('GET', '/api/v1/batches/no%20such', { key: KEYS.acmeReader }),
    ).toMatchObject({ status: 400, body: { error: 'Invalid batch ID format' } });
    expect(await api.request('GET', `/api/v1/batches/${mine[0]}`)).toMatchObject({
      status: 404,
      body: { error: 'Batch not found' },
    });
    expect(
      await api.request('POST', '/api/v1/tasks/batch', {
        key: KEYS.acmeReader,
        json: { action: 'pause', filter: { session_id: session } },
      }),
    ).toMatchObject({ status: 403, body: { error: 'Forbidden' } });
  });
});
