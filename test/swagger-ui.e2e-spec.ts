/**
 * An explorer's first session in Swagger UI, in a real browser (Debian's Chromium, headless):
 * authorize with the example key, then "Try it out" for every operation of the document with
 * the examples it offers (changing only what must name a task of the explorer's), checking
 * each answer shown.
 */
import { existsSync } from 'node:fs';
import { Browser, Locator, Page, chromium } from 'playwright-core';
import { DEVELOPMENT_KEY } from '../src/auth/key-store';
import { EmbeddedStack, startEmbedded } from './support/embedded';
import { waitFor } from './support/wait';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('Swagger UI at /docs', () => {
  let stack: EmbeddedStack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
    }
    // The explorer's setup: `npm start`, the embedded default.
    stack = await startEmbedded();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.process.stop();
  });

  /** The operation's block, expanded, with "Try it out" on. */
  async function openForm(operationId: string): Promise<Locator> {
    // One operation open at a time, as an explorer goes: every open one costs the page time on
    // each change of the form, and the answers pile up.
    for (const other of await page.locator('.opblock.is-open').all()) {
      if (!(await other.getAttribute('id'))?.endsWith(`-${operationId}`)) {
        await other.locator('.opblock-summary-control').click();
      }
    }
    const operation = page.locator(`[id$="-${operationId}"]`);
    if (!(await operation.evaluate((el) => el.classList.contains('is-open')))) {
      await operation.locator('.opblock-summary-control').click();
    }
    const tryOut = operation.locator('button.try-out__btn');
    if ((await tryOut.innerText()).trim() === 'Try it out') await tryOut.click();
    return operation;
  }

  /**
   * Opens the operation's form, clears the last answer, lets `fill` change what the form shows,
   * executes it and reads the answer shown: its status and its body as text.
   */
  async function tryItOutText(
    operationId: string,
    fill: (operation: Locator) => Promise<void> = () => Promise.resolve(),
  ): Promise<{ status: string; text: string }> {
    const operation = await openForm(operationId);
    const clear = operation.locator('button.btn-clear');
    if (await clear.isVisible()) await clear.click();
    await fill(operation);
    await operation.locator('button.execute').click();
    const response = operation.locator('.live-responses-table tbody tr.response');
    await response.waitFor();
    const status = (await response.locator('.response-col_status').innerText()).trim();
    const text = await response
      .locator('.response-col_description .microlight')
      .first()
      .innerText();
    return { status, text };
  }

  /** As tryItOutText, for a JSON answer. */
  async function tryItOut(
    operationId: string,
    fill?: (operation: Locator) => Promise<void>,
  ): Promise<{ status: string; body: any }> {
    const { status, text } = await tryItOutText(operationId, fill);
    return { status, body: JSON.parse(text) };
  }

  /** The values the form of an operation offers for its parameters, by name. */
  async function offeredParams(operationId: string): Promise<Record<string, string>> {
    const operation = await openForm(operationId);
    const rows = operation.locator('tr[data-param-name]');
    const offered: Record<string, string> = {};
    for (const row of await rows.all()) {
      const name = (await row.getAttribute('data-param-name'))!;
      const input = row.locator('input, select').first();
      offered[name] = (await input.count()) ? await input.inputValue() : '';
    }
    return offered;
  }

  async function authorize(): Promise<void> {
    await page.goto(`${stack.api.baseUrl}/docs`);
    await page.locator('[id$="-submitTask"]').waitFor();
    await page.locator('.auth-wrapper button.authorize').click();
    const apiKey = page.locator('.auth-container').filter({ hasText: 'X-API-Key' });
    await apiKey.locator('input').fill(DEVELOPMENT_KEY);
    await apiKey.locator('button.authorize').click();
    await page.locator('button.btn-done').first().click();
  }

  /** The request body Swagger UI offers in "Try it out", as JSON. */
  async function offeredBody(operationId: string): Promise<unknown> {
    const operation = await openForm(operationId);
    return JSON.parse(await operation.locator('textarea.body-param__text').inputValue());
  }

  const fillParam = (name: string, value: string) => async (op: Locator) => {
    await op.locator(`tr[data-param-name="${name}"] input`).fill(value);
  };
  const fillId = (taskId: string) => fillParam('id', taskId);
  const fillBody = (body: unknown) => async (op: Locator) => {
    await op.locator('textarea.body-param__text').fill(JSON.stringify(body));
  };

  it('lets an explorer authorize and run submit, pause, resume, cancel and status with their examples', async () => {
    await authorize();

    // The example body as offered, unchanged: a working request.
    const submitted = await tryItOut('submitTask');
    expect(await offeredBody('submitTask')).toEqual({
      query: 'Summarize the quarterly report',
      session_id: 'session-2026-q1',
      context: { steps: 3, step_duration_ms: 1000 },
      mode: 'standard',
      model_tier: 'small',
    });
    expect(submitted).toEqual({
      status: '200',
      body: {
        task_id: expect.stringMatching(/^task_/),
        status: 'TASK_STATUS_QUEUED',
        message: 'Task submitted successfully',
        created_at: expect.any(String),
      },
    });
    const exampleTask = submitted.body.task_id as string;

    // A task long enough to control however slow the browser is (cancelled at the end).
    const long = await tryItOut('submitTask', async (op) => {
      await op.locator('textarea.body-param__text').fill(
        JSON.stringify({
          query: 'Explore from Swagger UI',
          context: { steps: 3, step_duration_ms: 20_000 },
        }),
      );
    });
    expect(long.status).toBe('200');
    const taskId = long.body.task_id as string;

    const notPaused = await tryItOut('resumeTask', fillId(taskId));
    expect(await offeredBody('resumeTask')).toEqual({ reason: 'User approved continuation' });
    expect(notPaused).toEqual({ status: '409', body: { error: 'task is not paused' } });

    const paused = await tryItOut('pauseTask', fillId(taskId));
    expect(await offeredBody('pauseTask')).toEqual({ reason: 'Waiting for legal review' });
    expect(paused).toEqual({
      status: '202',
      body: { success: true, message: 'Pause signal sent', task_id: taskId },
    });

    const state = await tryItOut('getTaskControlState', fillId(taskId));
    expect(state).toEqual({
      status: '200',
      body: {
        is_paused: true,
        is_cancelled: false,
        paused_at: expect.any(String),
        pause_reason: 'Waiting for legal review',
        paused_by: 'dev',
        cancel_reason: '',
        cancelled_by: '',
        pause_deadline: '',
        on_timeout: '',
      },
    });

    const resumed = await tryItOut('resumeTask', fillId(taskId));
    expect(resumed).toEqual({
      status: '202',
      body: { success: true, message: 'Resume signal sent', task_id: taskId },
    });

    const cancelled = await tryItOut('cancelTask', fillId(taskId));
    expect(await offeredBody('cancelTask')).toEqual({ reason: 'User approved continuation' });
    expect(cancelled).toEqual({
      status: '202',
      body: { success: true, message: 'Task cancelled successfully', task_id: taskId },
    });

    await stack.api.waitForStatus(exampleTask, 'TASK_STATUS_COMPLETED');
    const status = await tryItOut('getTask', fillId(exampleTask));
    expect(status).toEqual({
      status: '200',
      body: {
        task_id: exampleTask,
        workflow_id: exampleTask,
        status: 'TASK_STATUS_COMPLETED',
        result: expect.stringContaining('3 steps completed'),
        error: '',
        created_at: submitted.body.created_at,
        updated_at: expect.any(String),
        completed_at: expect.any(String),
        query: 'Summarize the quarterly report',
        session_id: 'session-2026-q1',
        mode: 'standard',
        context: { steps: 3, step_duration_ms: 1000 },
      },
    });

    // The documented example id is well-formed, and no task of this tenant: the 404.
    const missing = await tryItOut('getTask', fillId('task-123'));
    expect(missing).toEqual({ status: '404', body: { error: 'Task not found' } });
  });

  it('lets an explorer try every other operation with its examples', async () => {
    const api = stack.api;
    const submit = async (body: Record<string, unknown>): Promise<string> => {
      const res = await api.request('POST', '/api/v1/tasks', { json: body });
      expect(res.status).toBe(200);
      return res.body.task_id as string;
    };
    const answer = async (path: string) => (await api.request('GET', path)).body;
    await authorize();

    expect(await tryItOut('health')).toEqual({ status: '200', body: { status: 'healthy' } });
    expect(await tryItOut('readiness')).toEqual({
      status: '200',
      body: { status: 'ready', checks: { temporal: 'ok' } },
    });

    // Tasks the explorer's backend runs meanwhile: one waiting for an approval, one paused and
    // resumed.
    const gated = await submit({
      query: 'Pay the March invoices',
      context: { steps: 1, step_duration_ms: 10 },
      approval: { checkpoints: ['pre_synthesis'] },
    });
    const held = await submit({
      query: 'Held report',
      context: { steps: 2, step_duration_ms: 200 },
    });
    expect((await api.request('POST', `/api/v1/tasks/${held}/pause`)).status).toBe(202);

    const streamed = await tryItOut('submitTaskAndStream');
    expect(await offeredBody('submitTaskAndStream')).toEqual({
      query: 'Summarize the quarterly report',
      session_id: 'session-2026-q1',
      context: { steps: 3, step_duration_ms: 1000 },
      mode: 'standard',
      model_tier: 'small',
    });
    const streamedId = streamed.body.task_id as string;
    expect(streamed).toEqual({
      status: '201',
      body: {
        task_id: expect.stringMatching(/^task_/),
        workflow_id: streamedId,
        stream_url: `/api/v1/stream/sse?workflow_id=${streamedId}`,
      },
    });

    // The approval example names a task of nobody's here: the 404 it documents. With the
    // waiting task's IDs it is decided.
    const approvalId = `apr_${gated}_pre_synthesis`;
    await waitFor(
      'the task to wait for its approval',
      async () =>
        (await answer(`/api/v1/tasks/${gated}/control-state`)).pending_approval?.approval_id ===
        approvalId,
    );
    expect(await tryItOut('decideApproval')).toEqual({
      status: '404',
      body: { error: 'Task not found' },
    });
    expect(await offeredBody('decideApproval')).toEqual({
      workflow_id: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4',
      approval_id: 'apr_task_01J8Z6W3V4N6Q2R8S0T1U2V3W4_pre_synthesis',
      approved: true,
      feedback: 'Looks good',
    });
    const decision = { workflow_id: gated, approval_id: approvalId, approved: true };
    expect(
      await tryItOut('decideApproval', fillBody({ ...decision, feedback: 'Looks good' })),
    ).toEqual({
      status: '200',
      body: {
        status: 'sent',
        success: true,
        message: 'Approval decision sent',
        workflow_id: gated,
        run_id: expect.any(String),
        approval_id: approvalId,
      },
    });
    expect(await tryItOut('listTaskApprovals', fillId(gated))).toEqual({
      status: '200',
      body: {
        approvals: [
          {
            approval_id: approvalId,
            checkpoint: 'pre_synthesis',
            state: 'approved',
            requested_at: expect.any(String),
            decided_at: expect.any(String),
            decided_by: 'dev',
            feedback: 'Looks good',
          },
        ],
      },
    });

    // The streams. Swagger UI reads an answer whole before it shows it (swagger-client's
    // fetch, then `text()`): a running task's stream shows no answer until the task closes,
    // then every event at once, as SSE text. So they are tried on closed tasks here.
    await waitFor('the held task to have taken the pause in', async () =>
      (await answer(`/api/v1/tasks/${held}/events`)).events.some(
        (e: { type: string }) => e.type === 'workflow.paused',
      ),
    );
    expect((await api.request('POST', `/api/v1/tasks/${held}/resume`)).status).toBe(202);
    for (const id of [gated, held, streamedId]) {
      await api.waitForStatus(id, 'TASK_STATUS_COMPLETED');
    }
    const sseExamples = { types: 'workflow.paused,workflow.resumed', 'Last-Event-ID': '17' };
    expect(await offeredParams('streamEvents')).toEqual({
      ...sseExamples,
      workflow_id: 'task-123',
      last_event_id: '',
      api_key: '',
    });
    expect(await tryItOut('streamEvents')).toEqual({
      status: '404',
      body: { error: 'Task not found' },
    });
    // Without the example filters: the whole stream of the task submitted above.
    const whole = await tryItOutText('streamEvents', async (op) => {
      await fillParam('workflow_id', streamedId)(op);
      await fillParam('types', '')(op);
      await fillParam('Last-Event-ID', '')(op);
    });
    const storedOf = async (id: string) =>
      (await answer(`/api/v1/tasks/${id}/events?limit=200`)).events as {
        seq: number;
        type: string;
      }[];
    const asStream = (events: { seq: number; type: string }[]) => [
      ...events.map((e) => ({ id: String(e.seq), event: e.type, data: e })),
      { event: 'done', data: '[DONE]' },
    ];
    expect({ status: whole.status, events: sseEvents(whole.text) }).toEqual({
      status: '200',
      events: asStream(await storedOf(streamedId)),
    });
    // With them, on the task that was paused: its pause and resume after event 17, then done.
    expect(await offeredParams('streamTaskEvents')).toEqual({
      ...sseExamples,
      id: 'task-123',
      last_event_id: '',
      api_key: '',
    });
    const filtered = await tryItOutText('streamTaskEvents', fillId(held));
    expect({ status: filtered.status, events: sseEvents(filtered.text) }).toEqual({
      status: '200',
      events: asStream(
        (await storedOf(held)).filter(
          (e) => e.seq > 17 && ['workflow.paused', 'workflow.resumed'].includes(e.type),
        ),
      ),
    });

    expect(await tryItOut('listTaskEvents', fillId(streamedId))).toEqual({
      status: '200',
      body: await answer(`/api/v1/tasks/${streamedId}/events?limit=50&offset=0`),
    });

    // The list's example filter is status=running, and the batch's pauses the running tasks of
    // session nightly-reports: one such task.
    const nightly = await submit({
      query: 'Nightly report',
      session_id: 'nightly-reports',
      context: { steps: 3, step_duration_ms: 20_000 },
    });
    await waitFor('the list to match the task as running', async () => {
      const page = await answer('/api/v1/tasks?status=running');
      return page.total_count === 1 && page.tasks[0].task_id === nightly;
    });
    expect(await offeredParams('listTasks')).toEqual({
      limit: '20',
      offset: '0',
      status: 'running',
      session_id: '',
      cursor: '',
    });
    const nightlyTask = await answer(`/api/v1/tasks/${nightly}`);
    expect(await tryItOut('listTasks')).toEqual({
      status: '200',
      body: {
        tasks: [
          {
            task_id: nightly,
            query: 'Nightly report',
            status: 'TASK_STATUS_RUNNING',
            mode: 'standard',
            created_at: nightlyTask.created_at,
          },
        ],
        total_count: 1,
        next_cursor: null,
      },
    });

    expect(await offeredBody('startBatch')).toEqual({
      action: 'pause',
      filter: { session_id: 'nightly-reports', status: 'running' },
      reason: 'Maintenance window',
    });
    const batch = await tryItOut('startBatch');
    const batchId = batch.body.batch_id as string;
    expect(batch).toEqual({
      status: '202',
      body: {
        batch_id: expect.stringMatching(/^batch_/),
        action: 'pause',
        matched: 1,
        state: 'running',
      },
    });
    await waitFor(
      'the batch to complete',
      async () => (await answer(`/api/v1/batches/${batchId}`)).state === 'completed',
    );
    expect(await tryItOut('getBatch', fillId(batchId))).toEqual({
      status: '200',
      body: {
        batch_id: batchId,
        action: 'pause',
        state: 'completed',
        matched: 1,
        succeeded: 1,
        skipped: 0,
        failed: 0,
        started_at: expect.any(String),
        closed_at: expect.any(String),
      },
    });
    // The example batch ID is well-formed, and no batch of this tenant.
    expect(
      await tryItOut('getBatch', fillId('batch_0f6b7a5e-2c1d-4f7e-9a51-3b8e2d4c6a10')),
    ).toEqual({ status: '404', body: { error: 'Batch not found' } });
    // The other example: a dry run counting the tasks created before 2026 (none here).
    await (
      await openForm('startBatch')
    )
      .locator('.opblock-section-request-body .examples-select select')
      .selectOption('count');
    expect(await offeredBody('startBatch')).toEqual({
      action: 'cancel',
      filter: { created_before: '2026-01-01T00:00:00Z' },
      dry_run: true,
    });
    expect(await tryItOut('startBatch')).toEqual({ status: '200', body: { matched: 0 } });

    const actions = await tryItOut('listTaskActions', fillId(nightly));
    expect(actions).toEqual({
      status: '200',
      body: await answer(`/api/v1/tasks/${nightly}/actions?limit=100&offset=0`),
    });
    expect(actions.body.actions.map((a: { action: string }) => a.action)).toEqual([
      'submit',
      'batch_pause',
    ]);
    expect((await api.request('POST', `/api/v1/tasks/${nightly}/cancel`)).status).toBe(202);
  });
});

/** The events of a Server-Sent Events text as a client parses them: comments left out. */
function sseEvents(text: string): { id?: string; event: string; data: unknown }[] {
  return text
    .split(/\n\n+/)
    .map((block) => block.split('\n').filter((line) => line && !line.startsWith(':')))
    .filter((lines) => lines.length > 0)
    .map((lines) => {
      const fields = new Map(
        lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
      );
      const data = fields.get('data') ?? '';
      return {
        ...(fields.has('id') && { id: fields.get('id') }),
        event: fields.get('event') ?? 'message',
        data: data.startsWith('{') ? JSON.parse(data) : data,
      };
    });
}
