/**
 * A Temporal that answers but is not set up for tasks: its namespace, or the task search
 * attributes, are missing. No route may then answer as if the task were missing or with a 500;
 * readiness says what is missing and the command that adds it; a worker stops saying the same.
 * And no request fails while a registration that just happened spreads through the cluster.
 * (On the dev server of `npm test` and again on the cluster of `npm run test:cluster`.)
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { COMMITTED_OPENAPI } from '../src/scripts/openapi-document';
import { TestApi } from './support/api';
import { E2E_TASK_QUEUE, temporalEnv } from './support/e2e-env';
import { ROOT, startWorkerProcess } from './support/processes';
import { TemporalObserver } from './support/temporal';
import { waitFor } from './support/wait';

const SETUP = '"npm run temporal:setup"';
const UNAVAILABLE = [503, { error: 'Task service unavailable' }];
const TASK = `task_${randomUUID()}`;

/** Every route but /health and /readiness, each of which needs the namespace. */
const ROUTES: [string, string, unknown][] = [
  ['POST', '/api/v1/tasks', { query: 'q' }],
  ['POST', '/api/v1/tasks/stream', { query: 'q' }],
  ['GET', '/api/v1/tasks', undefined],
  ['GET', `/api/v1/tasks/${TASK}`, undefined],
  ['GET', `/api/v1/tasks/${TASK}/control-state`, undefined],
  ['GET', `/api/v1/tasks/${TASK}/events`, undefined],
  ['GET', `/api/v1/tasks/${TASK}/actions`, undefined],
  ['GET', `/api/v1/tasks/${TASK}/approvals`, undefined],
  ['POST', `/api/v1/tasks/${TASK}/pause`, undefined],
  ['POST', `/api/v1/tasks/${TASK}/resume`, undefined],
  ['POST', `/api/v1/tasks/${TASK}/cancel`, undefined],
  [
    'POST',
    '/api/v1/approvals/decision',
    { workflow_id: TASK, approval_id: `apr_${TASK}_pre_synthesis`, approved: true },
  ],
  ['POST', '/api/v1/tasks/batch', { action: 'pause', filter: { session_id: 's' } }],
  [
    'POST',
    '/api/v1/tasks/batch',
    { action: 'cancel', filter: { task_ids: [TASK] }, dry_run: true },
  ],
  ['GET', `/api/v1/batches/batch_${randomUUID()}`, undefined],
  ['GET', `/api/v1/tasks/${TASK}/stream`, undefined],
  ['GET', `/api/v1/stream/sse?workflow_id=${TASK}`, undefined],
];

/** Whether ROUTES tries `method` on the document's `path` (`{id}` stands for any ID). */
const tried = (method: string, path: string): boolean => {
  const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?|$)`);
  return ROUTES.some(([m, p]) => m === method.toUpperCase() && pattern.test(p));
};

/** A worker on `namespace` runs until it stops by itself; its exit code and its error line. */
async function workerStopsOn(
  namespace: string,
): Promise<[number | null | undefined, string | undefined]> {
  const worker = startWorkerProcess({
    address: temporalEnv().TEMPORAL_ADDRESS,
    taskQueue: `setup-${randomUUID()}`,
    env: { TEMPORAL_NAMESPACE: namespace, LOG_FORMAT: 'json' },
  });
  let code: number | null | undefined;
  void worker.exited.then((exitCode) => (code = exitCode));
  await waitFor('the worker to stop by itself', () => code !== undefined, 30_000).finally(() =>
    worker.stop(),
  );
  const line = worker
    .output()
    .split('\n')
    .find((l) => l.includes('worker stopped'));
  return [code, line && (JSON.parse(line) as { message: string }).message];
}

describe('a namespace that does not exist', () => {
  const namespace = `missing-${randomUUID()}`;
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start({ env: { TEMPORAL_NAMESPACE: namespace } });
  });
  afterAll(async () => {
    await api.close();
  });

  it('GET /readiness answers 503 naming the namespace and the command that creates it', async () => {
    const res = await api.request('GET', '/readiness', { key: null });
    expect([res.status, res.body]).toEqual([
      503,
      {
        status: 'not ready',
        checks: { temporal: 'ok', namespace: 'missing' },
        message: `Temporal namespace "${namespace}" does not exist: create it with ${SETUP}`,
      },
    ]);
  });

  it('tries every route of the document but /health and /readiness', () => {
    const { paths } = JSON.parse(readFileSync(COMMITTED_OPENAPI, 'utf8')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const untried = Object.entries(paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((method) => !tried(method, path))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(untried).toEqual(['GET /health', 'GET /readiness']);
  });

  it.each(ROUTES)('%s %s answers 503, neither 404 nor 500', async (method, path, json) => {
    const res = await api.request(method, path, { json });
    expect([res.status, res.body]).toEqual(UNAVAILABLE);
  });

  it('stops a worker at once, saying which command creates the namespace', async () => {
    expect(await workerStopsOn(namespace)).toEqual([
      1,
      `Temporal namespace "${namespace}" does not exist: create it with ${SETUP}; worker stopped`,
    ]);
  });
});

describe('a namespace without the task search attributes', () => {
  const namespace = `bare-${randomUUID()}`;
  let temporalClient: TemporalObserver;
  let api: TestApi;

  beforeAll(async () => {
    temporalClient = await TemporalObserver.connect();
    const { workflowService } = temporalClient.client.connection;
    await workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(24 * 3600 * 1000),
    });
    await waitFor('the namespace to be usable', () =>
      workflowService.countWorkflowExecutions({ namespace, query: '' }).then(
        () => true,
        () => false,
      ),
    );
    api = await TestApi.start({ env: { TEMPORAL_NAMESPACE: namespace } });
  });
  afterAll(async () => {
    await api.close();
    await temporalClient.close();
  });

  it('is not ready, answers 503, and a worker stops naming the command', async () => {
    const readiness = await api.request('GET', '/readiness', { key: null });
    expect([readiness.status, readiness.body]).toEqual([
      503,
      {
        status: 'not ready',
        checks: { temporal: 'ok', namespace: 'ok', search_attributes: 'missing' },
        message:
          'The task search attributes (TenantId, SessionId, TaskStatus) are not registered in ' +
          `the Temporal namespace: register them with ${SETUP}`,
      },
    ]);
    const submit = await api.request('POST', '/api/v1/tasks', { json: { query: 'q' } });
    expect([submit.status, submit.body]).toEqual(UNAVAILABLE);
    const [code, message] = await workerStopsOn(namespace);
    expect([code, message]).toEqual([
      1,
      'The task search attributes (TenantId, SessionId, TaskStatus) are not registered in the ' +
        `Temporal namespace: register them with ${SETUP}; worker stopped`,
    ]);
  });

  it('accepts every submit from the moment the attributes are added, and runs the tasks', async () => {
    const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
    // What an operator's set-up does; a cluster then refuses the attributes for a moment.
    await temporalClient.client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { TenantId: keyword, SessionId: keyword, TaskStatus: keyword },
    });
    const answers: [number, unknown][] = [];
    const taskIds: string[] = [];
    const worker = startWorkerProcess({
      address: temporalEnv().TEMPORAL_ADDRESS,
      taskQueue: E2E_TASK_QUEUE,
      env: { TEMPORAL_NAMESPACE: namespace },
    });
    try {
      for (let i = 0; i < 15; i++) {
        const res = await api.request('POST', '/api/v1/tasks', {
          json: { query: `q${i}`, context: { steps: 1, step_duration_ms: 0 } },
        });
        answers.push([res.status, res.body.status ?? res.body]);
        if (res.status === 200) taskIds.push(res.body.task_id as string);
      }
      expect(answers).toEqual(Array.from({ length: 15 }, () => [200, 'TASK_STATUS_QUEUED']));
      const readiness = await api.request('GET', '/readiness', { key: null });
      expect(readiness.status).toBe(200);
      for (const taskId of taskIds) await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    } finally {
      await worker.stop();
    }
  });
});

describe('npm run temporal:setup', () => {
  const namespace = `setup-${randomUUID()}`;
  const setup = () =>
    spawnSync(process.execPath, [join(ROOT, 'dist/scripts/temporal-setup.js')], {
      env: { PATH: process.env.PATH, ...temporalEnv(), TEMPORAL_NAMESPACE: namespace },
      encoding: 'utf8',
    });

  it('registers a missing namespace and the search attributes, and then finds them there', async () => {
    const address = temporalEnv().TEMPORAL_ADDRESS;
    const first = setup();
    expect([first.status, first.stdout.trim().split('\n')]).toEqual([
      0,
      [
        `Temporal at ${address}, namespace "${namespace}"`,
        `Registered namespace "${namespace}" (closed tasks kept 7 days)`,
        'Added search attributes TenantId, SessionId, TaskStatus',
        'Ready for tasks',
      ],
    ]);
    const again = setup();
    expect([again.status, again.stdout.trim().split('\n')]).toEqual([
      0,
      [
        `Temporal at ${address}, namespace "${namespace}"`,
        `Namespace "${namespace}" exists`,
        'Search attributes TenantId, SessionId, TaskStatus exist',
        'Ready for tasks',
      ],
    ]);

    const api = await TestApi.start({ env: { TEMPORAL_NAMESPACE: namespace } });
    const worker = startWorkerProcess({
      address,
      taskQueue: E2E_TASK_QUEUE,
      env: { TEMPORAL_NAMESPACE: namespace },
    });
    try {
      const readiness = await api.request('GET', '/readiness', { key: null });
      expect([readiness.status, readiness.body]).toEqual([
        200,
        { status: 'ready', checks: { temporal: 'ok' } },
      ]);
      const taskId = await api.submit({ steps: 1, step_duration_ms: 0 });
      await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    } finally {
      await worker.stop();
      await api.close();
    }
  });
});
