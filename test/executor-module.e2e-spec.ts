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
import { TemporalObserver, expectEachStepCompletedOnce } from './support/temporal';
import { waitFor } from './support/wait';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'executors');
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The whole status body of a closed task of the compiled module (it reports no usage). */
const closedCompiled = (
  taskId: string,
  context: Record<string, unknown>,
  status: string,
  result = '',
) => ({
  task_id: taskId,
  workflow_id: taskId,
  status,
  result,
  error: '',
  created_at: expect.stringMatching(RFC3339),
  updated_at: expect.stringMatching(RFC3339),
  completed_at: expect.stringMatching(RFC3339),
  query: 'Summarize the quarterly report',
  session_id: expect.any(String),
  mode: 'standard',
  context,
});

describe('TASK_EXECUTOR=module:<path>', () => {
  const checklistQueue = `module-executor-${randomUUID()}`;
  const compiledQueue = `module-executor-${randomUUID()}`;
  const workers: NodeProcess[] = [];
  let checklist: TestApi;
  let compiled: TestApi;
  let temporal: TemporalObserver;

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
    temporal = await TemporalObserver.connect();
  });

  afterAll(async () => {
    await checklist?.close();
    await compiled?.close();
    await temporal?.close();
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

  it("pauses at the checkpoint after a module's step, then resumes and completes with the step run once", async () => {
    const taskId = await compiled.submit({ step_ms: 1500 });
    await temporal.waitUntilStepRunning(taskId, 1);
    const pause = await compiled.request('POST', `/api/v1/tasks/${taskId}/pause`, {
      json: { reason: 'hold' },
    });
    expect(pause.status).toBe(202);

    await temporal.waitUntilPausedAt(taskId, 'pre_synthesis');
    expect((await compiled.request('POST', `/api/v1/tasks/${taskId}/resume`)).status).toBe(202);
    await compiled.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    await expectEachStepCompletedOnce(temporal, taskId, 1);
    const status = await compiled.request('GET', `/api/v1/tasks/${taskId}`);
    expect(status.body).toEqual(
      closedCompiled(
        taskId,
        { step_ms: 1500 },
        'TASK_STATUS_COMPLETED',
        'SHOUT SUMMARIZE THE QUARTERLY REPORT',
      ),
    );
  });

  it("aborts a module's running step when the task is cancelled, and ends CANCELLED", async () => {
    const taskId = await compiled.submit({ step_ms: 120_000 });
    await temporal.waitUntilStepRunning(taskId, 1);
    const cancel = await compiled.request('POST', `/api/v1/tasks/${taskId}/cancel`, {
      json: { reason: 'not needed' },
    });
    expect(cancel.status).toBe(202);
    await compiled.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
    // The module saw its call's signal abort, long before its two minutes were up.
    const compiledWorker = workers[1];
    await waitFor(
      'the step to stop',
      () => compiledWorker.output().includes(`compiled-class-executor: ${taskId}:step:1 stopped`),
      10_000,
    );
    const status = await compiled.request('GET', `/api/v1/tasks/${taskId}`);
    expect(status.body).toEqual(
      closedCompiled(taskId, { step_ms: 120_000 }, 'TASK_STATUS_CANCELLED'),
    );
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
