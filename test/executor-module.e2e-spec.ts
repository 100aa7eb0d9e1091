/**
 * TASK_EXECUTOR=module:<path>: worker processes that load a team's own executor module, an ES
 * module (the README's example, kept here verbatim) and CommonJS compiled from TypeScript.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestApi } from './support/api';
import { temporalEnv } from './support/e2e-env';
import { NodeProcess, ROOT, startNodeProcess } from './support/processes';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'executors');
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('TASK_EXECUTOR=module:<path>', () => {
  const checklistQueue = `module-executor-${randomUUID()}`;
  const compiledQueue = `module-executor-${randomUUID()}`;
  const workers: NodeProcess[] = [];
  let checklist: TestApi;
  let compiled: TestApi;

  beforeAll(async () => {
    workers.push(
      startNodeProcess('worker', {
        ...temporalEnv(),
        TEMPORAL_TASK_QUEUE: checklistQueue,
        TASK_EXECUTOR: `module:${join(FIXTURES, 'checklist-executor.mjs')}`,
      }),
      // A path relative to the worker's working directory (the repository here).
      startNodeProcess('worker', {
        ...temporalEnv(),
        TEMPORAL_TASK_QUEUE: compiledQueue,
        TASK_EXECUTOR: 'module:test/fixtures/executors/compiled-class-executor.cjs',
      }),
    );
    checklist = await TestApi.start({ taskQueue: checklistQueue });
    compiled = await TestApi.start({ taskQueue: compiledQueue });
  });

  afterAll(async () => {
    await checklist?.close();
    await compiled?.close();
    await Promise.all(workers.map((w) => w.stop()));
  });

  it("runs the README's example module: its steps, outputs, result and reported usage", async () => {
    const taskId = await checklist.submit({ items: ['the invoices', 'the receipts'] });
    await checklist.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const status = await checklist.request('GET', `/api/v1/tasks/${taskId}`);
    expect(status.body).toEqual({
      task_id: taskId,
      workflow_id: taskId,
      status: 'TASK_STATUS_COMPLETED',
      result:
        `- Check the invoices is fine. (1/2, key ${taskId}:step:1)\n` +
        `- Check the receipts is fine. (2/2, key ${taskId}:step:2)`,
      error: '',
      created_at: expect.stringMatching(RFC3339),
      updated_at: expect.stringMatching(RFC3339),
      completed_at: expect.stringMatching(RFC3339),
      query: 'Summarize the quarterly report',
      session_id: expect.any(String),
      mode: 'standard',
      context: { items: ['the invoices', 'the receipts'] },
      model_used: 'rules-v1',
      provider: 'checklist',
      usage: { input_tokens: 2, output_tokens: 1, total_tokens: 3 },
    });
  });

  it("ends the task FAILED with the module's message when it throws a non-retryable error", async () => {
    const taskId = await checklist.submit({});
    await checklist.waitForStatus(taskId, 'TASK_STATUS_FAILED');

    const status = await checklist.request('GET', `/api/v1/tasks/${taskId}`);
    expect(status.body.error).toBe('context.items must list 1 to 50 things to check');
  });

  it('runs a CommonJS module compiled from a TypeScript default-exported class', async () => {
    const taskId = await compiled.submit();
    await compiled.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const status = await compiled.request('GET', `/api/v1/tasks/${taskId}`);
    expect(status.body.result).toBe('SHOUT SUMMARIZE THE QUARTERLY REPORT');
    expect(status.body).not.toHaveProperty('usage');
  });

  it('stops a worker whose module is missing or is not an executor, naming the variable', async () => {
    const missing = join(FIXTURES, 'no-such-executor.mjs');
    const notOne = join(FIXTURES, 'not-an-executor.cjs');
    const start = (path: string) =>
      startNodeProcess('worker', {
        ...temporalEnv(),
        TEMPORAL_TASK_QUEUE: `module-executor-${randomUUID()}`,
        TASK_EXECUTOR: `module:${path}`,
      });
    const [a, b] = [start(missing), start(notOne)];
    expect(await a.exited).toBe(1);
    expect(await b.exited).toBe(1);
    expect(a.output()).toContain(
      `Invalid configuration: TASK_EXECUTOR=module:${missing}: no such file (${missing})`,
    );
    expect(b.output()).toContain(
      `Invalid configuration: TASK_EXECUTOR=module:${notOne}: its default export has no plan, runStep and synthesize functions`,
    );
  });

  it("keeps the README's custom executor example identical to the module tested here", () => {
    const example = readFileSync(join(FIXTURES, 'checklist-executor.mjs'), 'utf8');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('```js\n' + example + '```');
  });
});
