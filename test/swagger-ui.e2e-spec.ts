/**
 * An explorer's first session in Swagger UI, in a real browser (Debian's Chromium, headless):
 * authorize with the example key, submit a task with "Try it out", pause it, resume it.
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

  /** Expands an operation, turns on "Try it out", fills it in and executes it. */
  async function tryItOut(
    operationId: string,
    fill: (operation: Locator) => Promise<void>,
  ): Promise<{ status: string; body: any }> {
    const operation = page.locator(`[id$="-${operationId}"]`);
    await operation.locator('.opblock-summary').first().click();
    await operation.locator('button.try-out__btn').click();
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

  it('lets an explorer authorize, submit, pause and resume a task, and shows the 202 bodies', async () => {
    await page.goto(`${stack.api.baseUrl}/docs`);
    await page.locator('[id$="-submitTask"]').waitFor();

    await page.locator('.auth-wrapper button.authorize').click();
    const apiKey = page.locator('.auth-container').filter({ hasText: 'X-API-Key' });
    await apiKey.locator('input').fill(DEVELOPMENT_KEY);
    await apiKey.locator('button.authorize').click();
    await page.locator('button.btn-done').first().click();

    const submitted = await tryItOut('submitTask', async (op) => {
      await op.locator('textarea.body-param__text').fill(
        JSON.stringify({
          query: 'Explore from Swagger UI',
          context: { steps: 3, step_duration_ms: 3000 },
        }),
      );
    });
    expect(submitted.status).toBe('200');
    const taskId = submitted.body.task_id as string;
    expect(submitted.body).toMatchObject({
      status: 'TASK_STATUS_QUEUED',
      message: 'Task submitted successfully',
    });

    const paused = await tryItOut('pauseTask', async (op) => {
      await op.locator('tr[data-param-name="id"] input').fill(taskId);
    });
    expect(paused).toEqual({
      status: '202',
      body: { success: true, message: 'Pause signal sent', task_id: taskId },
    });

    const resumed = await tryItOut('resumeTask', async (op) => {
      await op.locator('tr[data-param-name="id"] input').fill(taskId);
    });
    expect(resumed).toEqual({
      status: '202',
      body: { success: true, message: 'Resume signal sent', task_id: taskId },
    });
    await stack.api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
  });
});
