/**
 * The TypeScript client (clients/typescript) as an integrating team uses it, against the real
 * stack: every function, the control flow with its documented errors, an event stream whose
 * connection is cut mid-way and resumed with Last-Event-ID, the stream_url of a submit, batches,
 * approvals, health and readiness.
 */
import { randomUUID } from 'node:crypto';
import { TaskApiError, TaskClient, type TaskStreamEvent } from '../clients/typescript/src';
import { TestApi } from './support/api';
import { KEYS } from './support/keys';
import { TcpProxy } from './support/tcp-proxy';
import { waitFor } from './support/wait';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The TaskApiError a call fails with (the test fails if it succeeds or throws another). */
async function apiError(call: Promise<unknown>): Promise<{ status: number; body: unknown }> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TaskApiError))
    throw new Error(`expected a TaskApiError, got ${String(err)}`);
  return { status: err.status, body: err.body };
}

describe('TypeScript client', () => {
  let api: TestApi;
  let proxy: TcpProxy;
  /** Through the proxy. */
  let client: TaskClient;
  /** Straight to the API: for control while the proxy's connections are being cut. */
  let direct: TaskClient;

  beforeAll(async () => {
    api = await TestApi.start();
    proxy = await TcpProxy.start(api.baseUrl);
    client = new TaskClient({ baseUrl: proxy.url, apiKey: KEYS.acmeWriter });
    direct = new TaskClient({ baseUrl: api.baseUrl, apiKey: KEYS.acmeWriter });
  });
  afterAll(async () => {
    await proxy?.close();
    await api?.close();
  });

  it('drives submit, pause, a 409, control-state, resume, status, list, events, a 404 and cancel', async () => {
    const sessionId = `client-${randomUUID()}`;
    const submitted = await client.submitTask({
      query: 'Summarize the quarterly report',
      session_id: sessionId,
      context: { steps: 3, step_duration_ms: 1000 },
    });
    expect(submitted).toEqual({
      task_id: expect.stringMatching(/^task_/),
      status: 'TASK_STATUS_QUEUED',
      message: 'Task submitted successfully',
      created_at: expect.stringMatching(RFC3339),
    });
    const id = submitted.task_id;

    expect(await apiError(client.resumeTask(id))).toEqual({
      status: 409,
      body: { error: 'task is not paused' },
    });

    expect(await client.pauseTask(id, { reason: 'hold for review' })).toEqual({
      success: true,
      message: 'Pause signal sent',
      task_id: id,
    });
    expect(await apiError(client.pauseTask(id))).toEqual({
      status: 409,
      body: { error: 'task is already paused' },
    });
    expect(await client.getControlState(id)).toEqual({
      is_paused: true,
      is_cancelled: false,
      paused_at: expect.stringMatching(RFC3339),
      pause_reason: 'hold for review',
      paused_by: 'alice',
      cancel_reason: '',
      cancelled_by: '',
      pause_deadline: '',
      on_timeout: '',
    });

    // Resumed once the workflow has taken the pause in, so its events hold both.
    await waitFor('the task to be paused', async () =>
      (await client.listTaskEvents(id)).events.some((e) => e.type === 'workflow.paused'),
    );
    expect(await client.resumeTask(id, { reason: 'approved' })).toEqual({
      success: true,
      message: 'Resume signal sent',
      task_id: id,
    });
    const running = await client.getTask(id);
    expect(running).toMatchObject({
      task_id: id,
      workflow_id: id,
      query: 'Summarize the quarterly report',
      session_id: sessionId,
      mode: 'standard',
      context: { steps: 3, step_duration_ms: 1000 },
    });
    expect(['TASK_STATUS_QUEUED', 'TASK_STATUS_RUNNING']).toContain(running.status);

    // The list reads Temporal's visibility store, which trails writes by a fraction of a second.
    const listed = await waitFor('the task in its session list', async () => {
      const page = await client.listTasks({ session_id: sessionId });
      // Count and page are two queries, which may see the task a moment apart.
      return page.total_count === 1 && page.tasks.length === 1 && page;
    });
    expect(listed).toEqual({
      tasks: [
        {
          task_id: id,
          query: 'Summarize the quarterly report',
          status: expect.stringMatching(/^TASK_STATUS_(QUEUED|RUNNING)$/),
          mode: 'standard',
          created_at: submitted.created_at,
        },
      ],
      total_count: 1,
      next_cursor: null,
    });

    expect(await apiError(client.getTask(`task-missing-${randomUUID()}`))).toEqual({
      status: 404,
      body: { error: 'Task not found' },
    });
    expect(await apiError(client.getTask('bad id!'))).toEqual({
      status: 400,
      body: { error: 'Invalid task ID format' },
    });

    expect(await client.cancelTask(id, { reason: 'no longer needed' })).toEqual({
      success: true,
      message: 'Task cancelled successfully',
      task_id: id,
    });
    const cancelled = await waitFor('the task to be cancelled', async () => {
      const task = await client.getTask(id);
      return task.status === 'TASK_STATUS_CANCELLED' && task;
    });
    expect(cancelled).toEqual({
      task_id: id,
      workflow_id: id,
      status: 'TASK_STATUS_CANCELLED',
      result: '',
      error: '',
      created_at: submitted.created_at,
      updated_at: expect.stringMatching(RFC3339),
      completed_at: cancelled && cancelled.updated_at,
      query: 'Summarize the quarterly report',
      session_id: sessionId,
      mode: 'standard',
      context: { steps: 3, step_duration_ms: 1000 },
    });
    expect(await apiError(client.cancelTask(id))).toEqual({
      status: 409,
      body: {
        success: false,
        message: 'Task is already in terminal state: CANCELLED',
        status: 'CANCELLED',
      },
    });
    expect(await client.getControlState(id)).toMatchObject({
      is_cancelled: true,
      cancel_reason: 'no longer needed',
      cancelled_by: 'alice',
    });

    const { events, count } = await client.listTaskEvents(id);
    expect(count).toBe(events.length);
    expect(events.map((e) => e.type).filter((type) => type !== 'PROGRESS')).toEqual([
      'WORKFLOW_STARTED',
      'workflow.pausing',
      'workflow.paused',
      'workflow.resumed',
      'workflow.cancelling',
      'workflow.cancelled',
    ]);
    const actions = await client.listTaskActions(id);
    expect(actions.actions.map((a) => a.action)).toEqual(['submit', 'pause', 'resume', 'cancel']);
  });

  it('follows a stream to done through a cut connection, resuming with Last-Event-ID', async () => {
    const { task_id: id } = await direct.submitTask({
      query: 'Summarize the quarterly report',
      context: { steps: 2, step_duration_ms: 200 },
    });
    await direct.pauseTask(id, { reason: 'hold' });

    const received: TaskStreamEvent[] = [];
    let cutAfter: number | undefined;
    for await (const event of client.followTask(id, { reconnectDelayMs: 50 })) {
      received.push(event);
      if (event.type === 'workflow.paused' && cutAfter === undefined) {
        // The task is held open: everything after this comes through a new connection.
        cutAfter = event.id;
        proxy.cut();
        await direct.resumeTask(id);
      }
    }

    expect(cutAfter).toBeDefined();
    // The reconnect asked for exactly what came after the last event received.
    const streamHeads = proxy.requestHeads.filter((h) =>
      h.startsWith(`GET /api/v1/tasks/${id}/stream`),
    );
    expect(streamHeads).toHaveLength(2);
    expect(streamHeads[0]).not.toMatch(/last-event-id/i);
    expect(streamHeads[1]).toMatch(new RegExp(`\\r\\nlast-event-id: ${cutAfter}\\r\\n`, 'i'));

    // Every stored event once, in order (live events carry no id and this executor sends none).
    const { events } = await client.listTaskEvents(id, { limit: 200 });
    expect(received).toEqual(events.map((data) => ({ id: data.seq, type: data.type, data })));
    expect(received.at(-1)?.type).toBe('WORKFLOW_COMPLETED');
    expect(received.filter((e) => e.id! > cutAfter!).map((e) => e.type)).toContain(
      'workflow.resumed',
    );
  });

  it('follows from a Last-Event-ID with a types filter, and throws the documented errors', async () => {
    const { task_id: id } = await client.submitTask({
      query: 'Summarize the quarterly report',
      context: { steps: 1, step_duration_ms: 0 },
    });
    const completed = await waitFor('the task to complete', async () => {
      const task = await client.getTask(id);
      return task.status === 'TASK_STATUS_COMPLETED' && task;
    });
    const { events } = await client.listTaskEvents(id);
    const started = events.find((e) => e.type === 'WORKFLOW_STARTED')!;

    const received: TaskStreamEvent[] = [];
    for await (const event of client.followTask(id, {
      lastEventId: started.seq,
      types: ['WORKFLOW_STARTED', 'WORKFLOW_COMPLETED'],
    })) {
      received.push(event);
    }
    const done = events.find((e) => e.type === 'WORKFLOW_COMPLETED')!;
    expect(received).toEqual([{ id: done.seq, type: 'WORKFLOW_COMPLETED', data: done }]);
    expect(done).toMatchObject({ result: completed.result });

    const missing = client.followTask(`task-missing-${randomUUID()}`);
    expect(await apiError(missing.next())).toEqual({
      status: 404,
      body: { error: 'Task not found' },
    });
    const badType = client.followTask(id, { types: ['nope' as 'PROGRESS'] });
    expect(await apiError(badType.next())).toEqual({
      status: 400,
      body: { error: 'Invalid types parameter: unknown event type "nope"' },
    });
  });
  it('submits with a stream, and follows its stream_url (GET /api/v1/stream/sse) to done', async () => {
    const submitted = await client.submitTaskAndStream({
      query: 'Summarize the quarterly report',
      context: { steps: 2, step_duration_ms: 100 },
    });
    const id = submitted.task_id;
    expect(submitted).toEqual({
      task_id: expect.stringMatching(/^task_/),
      workflow_id: id,
      stream_url: `/api/v1/stream/sse?workflow_id=${id}`,
    });

    const received: TaskStreamEvent[] = [];
    for await (const event of client.followStream(submitted.stream_url)) received.push(event);

    // Every stored event once, in order, from the first; the iterator ended at `done`.
    const { events } = await client.listTaskEvents(id, { limit: 200 });
    expect(received).toEqual(events.map((data) => ({ id: data.seq, type: data.type, data })));
    expect([received[0].type, received.at(-1)?.type]).toEqual([
      'WORKFLOW_STARTED',
      'WORKFLOW_COMPLETED',
    ]);
    expect((await client.getTask(id)).status).toBe('TASK_STATUS_COMPLETED');
  });

  it("counts a batch's tasks, starts it, reads it to completed, and throws getBatch's 404 and 400", async () => {
    const sessionId = `client-batch-${randomUUID()}`;
    const ids = await Promise.all(
      [1, 2].map(async () => {
        const { task_id } = await client.submitTask({
          query: 'Monthly report',
          session_id: sessionId,
          context: { steps: 2, step_duration_ms: 30_000 },
        });
        return task_id;
      }),
    );
    const filter = { session_id: sessionId };
    // A batch matches what the list matches, which trails submits by a fraction of a second.
    const counted = await waitFor('the two tasks to be matched', async () => {
      const dryRun = await client.startBatch({ action: 'cancel', filter, dry_run: true });
      return 'matched' in dryRun && !('batch_id' in dryRun) && dryRun.matched === 2 && dryRun;
    });
    expect(counted).toEqual({ matched: 2 });

    const started = await client.startBatch({ action: 'cancel', filter, reason: 'superseded' });
    expect(started).toEqual({
      batch_id: expect.stringMatching(/^batch_[0-9a-f-]{36}$/),
      action: 'cancel',
      matched: 2,
      state: 'running',
    });
    const batchId = (started as { batch_id: string }).batch_id;
    const completed = await waitFor('the batch to complete', async () => {
      const batch = await client.getBatch(batchId);
      return batch.state === 'completed' && batch;
    });
    expect(completed).toEqual({
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
    for (const id of ids) {
      expect(
        await waitFor(`${id} to be cancelled`, async () => {
          const task = await client.getControlState(id);
          return task.is_cancelled && task;
        }),
      ).toMatchObject({ is_cancelled: true, cancel_reason: 'superseded' });
    }

    expect(await apiError(client.getBatch(`batch_${randomUUID()}`))).toEqual({
      status: 404,
      body: { error: 'Batch not found' },
    });
    expect(await apiError(client.getBatch('bad id!'))).toEqual({
      status: 400,
      body: { error: 'Invalid batch ID format' },
    });
  });

  it('answers health, and readiness ready or not (a 503 report is returned, not thrown)', async () => {
    expect(await client.health()).toEqual({ status: 'healthy' });
    expect(await client.readiness()).toEqual({ status: 'ready', checks: { temporal: 'ok' } });

    const namespace = `missing-${randomUUID()}`;
    const unset = await TestApi.start({ env: { TEMPORAL_NAMESPACE: namespace } });
    try {
      const other = new TaskClient({ baseUrl: unset.baseUrl, apiKey: KEYS.acmeWriter });
      expect(await other.readiness()).toEqual({
        status: 'not ready',
        checks: { temporal: 'ok', namespace: 'missing' },
        message: `Temporal namespace "${namespace}" does not exist: create it with "npm run temporal:setup"`,
      });
      expect(await other.health()).toEqual({ status: 'healthy' });
    } finally {
      await unset.close();
    }
  });

  it('approves a gated task, lists its approvals, and throws the 409 of a second decision', async () => {
    const { task_id: id } = await client.submitTask({
      query: 'Pay the March invoices',
      context: { steps: 1, step_duration_ms: 10 },
      approval: { checkpoints: ['pre_synthesis'] },
    });
    const approvalId = `apr_${id}_pre_synthesis`;
    await waitFor(
      'the task to wait for its approval',
      async () => (await client.getControlState(id)).pending_approval?.approval_id === approvalId,
    );

    const decision = { workflow_id: id, approval_id: approvalId, approved: true };
    expect(await client.decideApproval({ ...decision, feedback: 'Checked' })).toEqual({
      status: 'sent',
      success: true,
      message: 'Approval decision sent',
      workflow_id: id,
      run_id: expect.any(String),
      approval_id: approvalId,
    });
    expect(await apiError(client.decideApproval(decision))).toEqual({
      status: 409,
      body: { error: 'approval already decided' },
    });
    expect(await client.listTaskApprovals(id)).toEqual({
      approvals: [
        {
          approval_id: approvalId,
          checkpoint: 'pre_synthesis',
          state: 'approved',
          requested_at: expect.stringMatching(RFC3339),
          decided_at: expect.stringMatching(RFC3339),
          decided_by: 'alice',
          feedback: 'Checked',
        },
      ],
    });
    await waitFor(
      'the approved task to complete',
      async () => (await client.getTask(id)).status === 'TASK_STATUS_COMPLETED',
    );
  });
});
