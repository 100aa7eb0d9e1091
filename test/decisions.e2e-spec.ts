/**
 * Control decisions are exact however many API instances answer: two instances share a real
 * redis-server, requests race each other across both, and Temporal's history is the judge.
 */
import { randomUUID } from 'node:crypto';
import { ApiResponse, TestApi } from './support/api';
import { startRedis } from './support/redis';
import { TemporalObserver, signalNames } from './support/temporal';
import { waitFor } from './support/wait';

/** How many answers had each status, e.g. { 202: 1, 409: 49 }. */
const tally = (answers: ApiResponse[]): Record<number, number> =>
  answers.reduce<Record<number, number>>((counts, { status }) => {
    counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  }, {});

describe('control decisions across two API instances sharing Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let apis: TestApi[];
  let temporal: TemporalObserver;

  beforeAll(async () => {
    redis = await startRedis();
    apis = [
      await TestApi.start({ env: { REDIS_URL: redis.url } }),
      await TestApi.start({ env: { REDIS_URL: redis.url } }),
    ];
    temporal = await TemporalObserver.connect();
  });
  afterAll(async () => {
    await Promise.all(apis.map((api) => api.close()));
    await temporal.close();
    await redis.stop();
  });

  /** `n` requests at once, alternating between the two instances. */
  const race = (taskId: string, action: string, n: number, instances = apis) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        instances[i % instances.length].request('POST', `/api/v1/tasks/${taskId}/${action}`),
      ),
    );

  it('50 concurrent resumes of a paused task: one 202, 49 × 409, one resume_v1 in history', async () => {
    // Steps long enough that the task is still running when the last of the 50 is decided.
    const taskId = await apis[0].submit({ steps: 2, step_duration_ms: 5000 });
    expect((await apis[1].request('POST', `/api/v1/tasks/${taskId}/pause`)).status).toBe(202);
    await waitFor('the task to wait at a checkpoint', async () =>
      (await temporal.progress(taskId))?.waiting ? true : undefined,
    );

    const answers = await race(taskId, 'resume', 50);

    expect(tally(answers)).toEqual({ 202: 1, 409: 49 });
    for (const answer of answers.filter((a) => a.status === 409)) {
      expect(answer.body).toEqual({ error: 'task is not paused' });
    }
    await apis[0].waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    expect(signalNames(await temporal.history(taskId))).toEqual(['pause_v1', 'resume_v1']);
  });

  it('50 concurrent pauses of a just-started task, while its workflow tasks are in flight: one 202', async () => {
    const taskId = await apis[0].submit({ steps: 20, step_duration_ms: 50 });

    const answers = await race(taskId, 'pause', 50);

    expect(tally(answers)).toEqual({ 202: 1, 409: 49 });
    for (const answer of answers.filter((a) => a.status === 409)) {
      expect(answer.body).toEqual({ error: 'task is already paused' });
    }
    expect((await apis[1].request('POST', `/api/v1/tasks/${taskId}/cancel`)).status).toBe(202);
    await apis[0].waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
    expect(signalNames(await temporal.history(taskId))).toEqual(['pause_v1', 'cancel_v1']);
  });

  it('a cancel racing pauses: no pause is accepted after the cancel', async () => {
    for (let trial = 0; trial < 3; trial++) {
      const taskId = await apis[0].submit({ steps: 20, step_duration_ms: 50 });
      const [cancel, ...pauses] = await Promise.all([
        apis[trial % 2].request('POST', `/api/v1/tasks/${taskId}/cancel`),
        ...Array.from({ length: 20 }, (_, i) =>
          apis[i % 2].request('POST', `/api/v1/tasks/${taskId}/pause`),
        ),
      ]);

      expect(cancel.status).toBe(202);
      await apis[0].waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
      const signals = signalNames(await temporal.history(taskId));
      const accepted = pauses.filter((p) => p.status === 202).length;
      // At most one pause got in, and only before the cancel; every other pause heard why not.
      expect(accepted).toBeLessThanOrEqual(1);
      expect(signals).toEqual(accepted ? ['pause_v1', 'cancel_v1'] : ['cancel_v1']);
      for (const pause of pauses.filter((p) => p.status !== 202)) {
        expect([pause.status, pause.body]).toEqual([
          409,
          {
            error: expect.stringMatching(/^(cannot pause cancelled task|task is already paused)$/),
          },
        ]);
      }
    }
  });

  it('pauses of many just-started tasks at once are each exact', async () => {
    const taskIds = await Promise.all(
      Array.from({ length: 20 }, (_, i) => apis[i % 2].submit({ steps: 3, step_duration_ms: 200 })),
    );
    const answers = await Promise.all(
      taskIds.map((taskId, i) =>
        apis[(i + 1) % 2].request('POST', `/api/v1/tasks/${taskId}/pause`),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(taskIds.map(() => 202));

    // A second pause of each, on the other instance, hears that the first one counted.
    const again = await Promise.all(
      taskIds.map((taskId, i) => apis[i % 2].request('POST', `/api/v1/tasks/${taskId}/pause`)),
    );
    expect(again.map((a) => [a.status, a.body])).toEqual(
      taskIds.map(() => [409, { error: 'task is already paused' }]),
    );
    await Promise.all(
      taskIds.map((taskId) => apis[0].request('POST', `/api/v1/tasks/${taskId}/cancel`)),
    );
  });

  it('two actions with the same If-Match at once, one on each instance: one 202, one 412 with its tag', async () => {
    const etag = async (api: TestApi, taskId: string) =>
      (await api.request('GET', `/api/v1/tasks/${taskId}`)).headers.get('etag');
    // Pause against pause, and pause against cancel, each way round.
    const trials: [string, string][] = [
      ['pause', 'pause'],
      ['pause', 'pause'],
      ['pause', 'cancel'],
      ['cancel', 'pause'],
    ];
    for (const actions of trials) {
      const taskId = await apis[0].submit({ steps: 20, step_duration_ms: 50 });
      await apis[0].waitForStatus(taskId, 'TASK_STATUS_RUNNING');
      const tag = await etag(apis[0], taskId);
      expect(await etag(apis[1], taskId)).toBe(tag);

      const answers = await Promise.all(
        actions.map((action, i) =>
          apis[i].request('POST', `/api/v1/tasks/${taskId}/${action}`, {
            headers: { 'If-Match': tag! },
          }),
        ),
      );

      expect([actions, tally(answers)]).toEqual([actions, { 202: 1, 412: 1 }]);
      const won = answers.findIndex((a) => a.status === 202);
      const lost = answers[1 - won];
      const current = answers[won].headers.get('etag');
      // The winner's tag is what both instances read while its state holds (a paused task
      // stays paused; a cancelled one soon closes), and both read the closed task alike.
      if (actions[won] === 'pause') {
        expect(lost.body).toEqual({ error: 'Task has changed', etag: current });
        expect([await etag(apis[0], taskId), await etag(apis[1], taskId)]).toEqual([
          current,
          current,
        ]);
        expect((await apis[1].request('POST', `/api/v1/tasks/${taskId}/cancel`)).status).toBe(202);
      }
      await apis[0].waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
      const closed = await etag(apis[0], taskId);
      expect(await etag(apis[1], taskId)).toBe(closed);
      if (actions[won] === 'cancel') {
        // The loser names the task's tag when it was refused: the cancel's, or, when the task
        // closed first, the closed task's.
        expect([[current, closed].includes(lost.body.etag), lost.body]).toEqual([
          true,
          { error: 'Task has changed', etag: lost.body.etag },
        ]);
      }
      expect(signalNames(await temporal.history(taskId))).toEqual(
        actions[won] === 'pause' ? ['pause_v1', 'cancel_v1'] : ['cancel_v1'],
      );
    }
  });

  it('50 concurrent decisions on one approval, approve and reject mixed: one 200, 49 × 409, one decision in history', async () => {
    const submitted = await apis[0].request('POST', '/api/v1/tasks', {
      json: {
        query: 'Pay the March invoices',
        context: { steps: 1, step_duration_ms: 0 },
        approval: { checkpoints: ['pre_planning'] },
      },
    });
    expect(submitted.status).toBe(200);
    const taskId = submitted.body.task_id as string;
    const approvalId = `apr_${taskId}_pre_planning`;
    await waitFor('the task to wait for its approval', async () => {
      const res = await apis[1].request('GET', `/api/v1/tasks/${taskId}/control-state`);
      return res.body.pending_approval?.approval_id === approvalId ? true : undefined;
    });

    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        apis[i % 2].request('POST', '/api/v1/approvals/decision', {
          json: {
            workflow_id: taskId,
            approval_id: approvalId,
            approved: i % 4 < 2,
            feedback: `decision ${i}`,
          },
        }),
      ),
    );

    expect(tally(answers)).toEqual({ 200: 1, 409: 49 });
    for (const answer of answers.filter((a) => a.status === 409)) {
      expect(answer.body).toEqual({ error: 'approval already decided' });
    }
    const won = answers.findIndex((a) => a.status === 200);
    const approved = won % 4 < 2;
    await apis[0].waitForStatus(
      taskId,
      approved ? 'TASK_STATUS_COMPLETED' : 'TASK_STATUS_CANCELLED',
    );
    expect(signalNames(await temporal.history(taskId))).toEqual(['approval_decision_v1']);
    // Both instances tell the winner's decision.
    for (const api of apis) {
      const res = await api.request('GET', `/api/v1/tasks/${taskId}/approvals`);
      expect(res.body).toEqual({
        approvals: [
          {
            approval_id: approvalId,
            checkpoint: 'pre_planning',
            state: approved ? 'approved' : 'rejected',
            requested_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
            decided_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
            decided_by: 'alice',
            feedback: `decision ${won}`,
          },
        ],
      });
    }
    if (!approved) {
      const control = await apis[1].request('GET', `/api/v1/tasks/${taskId}/control-state`);
      expect(control.body.cancel_reason).toBe(`approval rejected: decision ${won}`);
    }
  });

  describe('with no worker running', () => {
    let idle: TestApi[];

    beforeAll(async () => {
      const taskQueue = `no-worker-${randomUUID()}`;
      idle = [
        await TestApi.start({ taskQueue, env: { REDIS_URL: redis.url } }),
        await TestApi.start({ taskQueue, env: { REDIS_URL: redis.url } }),
      ];
    });
    afterAll(async () => {
      await Promise.all(idle.map((api) => api.close()));
    });

    it('a pause answered by one instance is honoured by the next resume on the other', async () => {
      const taskId = await idle[0].submit();
      const post = (i: number, action: string) =>
        idle[i].request('POST', `/api/v1/tasks/${taskId}/${action}`, {
          json: { reason: `${action} on ${i}` },
        });

      expect((await post(0, 'pause')).status).toBe(202);
      expect((await post(1, 'resume')).status).toBe(202);
      expect(await post(0, 'resume')).toMatchObject({
        status: 409,
        body: { error: 'task is not paused' },
      });
      expect((await post(1, 'pause')).status).toBe(202);
      expect((await idle[0].request('GET', `/api/v1/tasks/${taskId}/control-state`)).body).toEqual({
        is_paused: true,
        is_cancelled: false,
        paused_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        pause_reason: 'pause on 1',
        paused_by: 'alice',
        cancel_reason: '',
        cancelled_by: '',
        pause_deadline: '',
        on_timeout: '',
      });
      expect(tally(await race(taskId, 'resume', 10, idle))).toEqual({ 202: 1, 409: 9 });
      expect(signalNames(await temporal.history(taskId))).toEqual([
        'pause_v1',
        'resume_v1',
        'pause_v1',
        'resume_v1',
      ]);
    });
  });
});
