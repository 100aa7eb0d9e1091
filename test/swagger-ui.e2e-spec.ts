/**
 * An explorer's first session in Swagger UI, in a real browser (Debian's Chromium, headless):
 * authorize with the example key, then "Try it out" with the examples the document offers:
 * submit, a 409, pause, control-state, resume, cancel, status and a 404, checking each answer
 * shown.
 */
import { existsSync } from 'node:fs';
import { Browser, Locator, Page, chromium } from 'playwright-core';
import { DEVELOPMENT_KEY } from '../src/auth/key-store';
import { EmbeddedStack, startEmbedded } from './support/embedded';

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

  /**
   * Expands an operation (unless open), turns on "Try it out" (unless on), clears the last
   * answer, lets `fill` change what the form shows, executes it and reads the answer shown.
   */
  async function tryItOut(
    operationId: string,
    fill: (operation: Locator) => Promise<void> = () => Promise.resolve(),
  ): Promise<{ status: string; body: any }> {
    const operation = page.locator(`[id$="-${operationId}"]`);
    if (!(await operation.evaluate((el) => el.classList.contains('is-open')))) {
      await operation.locator('.opblock-summary').first().click();
    }
    const tryOut = operation.locator('button.try-out__btn');
    if ((await tryOut.innerText()).trim() === 'Try it out') await tryOut.click();
    const clear = operation.locator('button.btn-clear');
    if (await clear.isVisible()) await clear.click();
    await fill(operation);
    await operation.locator('button.execute').click();
    const response = operation.locator('.live-responses-table tbody tr.response');
    await response.waitFor();
    const status = (await response.locator('.response-col_status').innerText()).trim();
    const body = await response
      .locator('.response-col_description .microlight')
      .first()
      .innerText();
    return { status, body: JSON.parse(body) };
  }

  /** The request body Swagger UI offers in "Try it out", as JSON. */
  async function offeredBody(operationId: string): Promise<unknown> {
    const operation = page.locator(`[id$="-${operationId}"]`);
    return JSON.parse(await operation.locator('textarea.body-param__text').inputValue());
  }

  const fillId = (taskId: string) => async (op: Locator) => {
    await op.locator('tr[data-param-name="id"] input').fill(taskId);
  };

  it('lets an explorer authorize and run submit, pause, resume, cancel and status with their examples', async () => {
    await page.goto(`${stack.api.baseUrl}/docs`);
    await page.locator('[id$="-submitTask"]').waitFor();

    await page.locator('.auth-wrapper button.authorize').click();
    const apiKey = page.locator('.auth-container').filter({ hasText: 'X-API-Key' });
    await apiKey.locator('input').fill(DEVELOPMENT_KEY);
    await apiKey.locator('button.authorize').click();
    await page.locator('button.btn-done').first().click();

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
});
