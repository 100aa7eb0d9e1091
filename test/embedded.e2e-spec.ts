/**
 * The embedded default as a user runs it (`node dist/embedded.js`, what `npm start` runs):
 * its own Temporal dev server persisted under DATA_DIR, a worker and the API in one command.
 */
import { Client, Connection } from '@temporalio/client';
import { EmbeddedStack, startEmbedded } from './support/embedded';
import { scheduledSteps } from './support/temporal';
import { waitFor } from './support/wait';

describe('npm start (embedded default)', () => {
  let stack: EmbeddedStack | undefined;

  afterAll(async () => {
    await stack?.process.stop();
  });

  it('keeps a paused task paused across a restart, and resume continues it from its checkpoint', async () => {
    stack = await startEmbedded();
    let api = stack.api;
    const temporalAddress = `127.0.0.1:${stack.ports.temporal}`;
    const submitted = await api.request('POST', '/api/v1/tasks', {
      json: { query: 'survives a restart', context: { steps: 3, step_duration_ms: 300 } },
    });
    expect(submitted.status).toBe(200);
    const taskId = submitted.body.task_id as string;
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/pause`)).status).toBe(202);

    const connection = await Connection.connect({ address: temporalAddress });
    const temporal = new Client({ connection });
    const waitingAt = await waitFor('the task to wait at a checkpoint', async () => {
      const { memo } = await temporal.workflow.getHandle(taskId).describe();
      const progress = memo?.progress as { waiting: boolean; checkpoint: string } | undefined;
      return progress?.waiting ? progress.checkpoint : undefined;
    });
    await connection.close();

    // Ctrl-C: API, worker and Temporal stop in order, and the process exits cleanly.
    expect(await stack.process.stop('SIGINT')).toBe(0);
    stack = await startEmbedded(stack);
    api = stack.api;

    expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');
    const control = await api.request('GET', `/api/v1/tasks/${taskId}/control-state`);
    expect(control.body).toMatchObject({ is_paused: true, paused_by: 'dev' });
    const resumed = await api.request('POST', `/api/v1/tasks/${taskId}/resume`);
    expect([resumed.status, resumed.body]).toEqual([
      202,
      { success: true, message: 'Resume signal sent', task_id: taskId },
    ]);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const after = new Client({
      connection: await Connection.connect({ address: temporalAddress }),
    });
    const events = (await after.workflow.getHandle(taskId).fetchHistory()).events ?? [];
    await after.connection.close();
    expect(scheduledSteps(events).map((s) => s.step)).toEqual([1, 2, 3]);
    expect(waitingAt).toMatch(/^pre_(planning|step_\d)$/);
  });
});
