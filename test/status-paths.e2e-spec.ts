/**
 * GET /api/v1/tasks/:id reads a task the cheap way (describe and the last event) when no workflow
 * task is pending, and folds the whole history otherwise. Both must tell the same task.
 */
import { loadConfig } from '../src/config/app-config';
import { statusOf, readTaskGlance, readTaskHistory, TaskSnapshot } from '../src/tasks/task-history';
import { SearchAttributes } from '../src/temporal/search-attributes';
import { TaskWorkflowGateway } from '../src/temporal/task-workflow.gateway';
import { TestApi } from './support/api';
import { E2E_TASK_QUEUE, temporalAddress } from './support/e2e-env';
import { TemporalObserver } from './support/temporal';
import { waitFor } from './support/wait';

const comparable = (task: TaskSnapshot) => ({
  status: statusOf(task),
  tenantId: task.tenantId,
  sessionId: task.sessionId,
  query: task.query,
  mode: task.mode,
  context: task.context,
  result: task.result,
  error: task.error,
  createdAt: task.createdAt,
  updatedAt: task.updatedAt,
  closedAt: task.closedAt,
  isPaused: task.control.is_paused,
  isCancelled: task.control.is_cancelled,
});

describe('the two ways of reading a task', () => {
  let api: TestApi;
  let temporal: TemporalObserver;
  let gateway: TaskWorkflowGateway;

  beforeAll(async () => {
    api = await TestApi.start();
    temporal = await TemporalObserver.connect();
    const config = loadConfig({
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: E2E_TASK_QUEUE,
    });
    gateway = new TaskWorkflowGateway(
      temporal.client,
      config,
      new SearchAttributes(temporal.client, config),
    );
  });
  afterAll(async () => {
    await api.close();
    await temporal.close();
  });

  /** Both readings, once no workflow task is pending. */
  const bothWays = async (taskId: string) => {
    const glance = await waitFor('no pending workflow task', async () => {
      const g = await gateway.glance(taskId);
      return g.workflowTaskPending ? undefined : g;
    });
    const history = readTaskHistory(taskId, await gateway.history(taskId))!.task;
    return { cheap: comparable(readTaskGlance(taskId, glance)!), exact: comparable(history) };
  };

  it.each([
    ['completed', { steps: 1, step_duration_ms: 0 }, 'TASK_STATUS_COMPLETED'],
    ['failed', { steps: 1, step_duration_ms: 0, fail_at_step: 1 }, 'TASK_STATUS_FAILED'],
  ])('agree on a %s task', async (_, context, status) => {
    const taskId = await api.submit(context);
    await api.waitForStatus(taskId, status);
    const { cheap, exact } = await bothWays(taskId);
    expect(cheap).toEqual(exact);
    expect(cheap.status).toBe(status);
  });

  it('agree on a task paused at a checkpoint, and on a cancelled one', async () => {
    const taskId = await api.submit({ steps: 2, step_duration_ms: 200 });
    await api.request('POST', `/api/v1/tasks/${taskId}/pause`);
    await waitFor(
      'the task to wait at a checkpoint',
      async () => (await temporal.progress(taskId))?.waiting,
    );
    let both = await bothWays(taskId);
    expect(both.cheap).toEqual(both.exact);
    expect(both.cheap.status).toBe('TASK_STATUS_PAUSED');

    await api.request('POST', `/api/v1/tasks/${taskId}/cancel`);
    await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
    both = await bothWays(taskId);
    expect(both.cheap).toEqual(both.exact);
  });
});
