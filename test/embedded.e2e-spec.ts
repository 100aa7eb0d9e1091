/**
 * The embedded default as a user runs it (`node dist/embedded.js`, what `npm start` runs):
 * its own Temporal dev server persisted under DATA_DIR, a worker and the API in one command.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ApiClient } from './support/api';
import { freePort } from './support/ports';
import { NodeProcess, startNodeProcess } from './support/processes';
import { scheduledSteps } from './support/temporal';
import { waitFor } from './support/wait';

const DEV_KEY = 'sk_test_123456';

describe('npm start (embedded default)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'task-api-embedded-'));
  let ports: { api: number; temporal: number; ui: number };
  let running: NodeProcess | undefined;

  beforeAll(async () => {
    ports = { api: await freePort(), temporal: await freePort(), ui: await freePort() };
  });
  afterAll(async () => {
    await running?.stop();
  });

  async function start(): Promise<ApiClient> {
    running = startNodeProcess('embedded', {
      NODE_ENV: 'development',
      PORT: String(ports.api),
      DATA_DIR: dataDir,
      TEMPORAL_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      ...(process.env.TEMPORAL_CLI_PATH && { TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH }),
    });
    const api = new ApiClient(`http://127.0.0.1:${ports.api}`, DEV_KEY);
    const proc = running;
    await waitFor(
      'the embedded stack to be ready',
      async () => {
        const ready = await api.request('GET', '/readiness').catch(() => undefined);
        if (ready?.status === 200) return true;
        if (proc.output().includes('Start-up failed')) throw new Error(proc.output());
        return undefined;
      },
      60_000,
    );
    return api;
  }

  async function stop(): Promise<number | null> {
    const code = await running!.stop('SIGINT');
    running = undefined;
    return code;
  }

  it('keeps a paused task paused across a restart, and resume continues it from its checkpoint', async () => {
    let api = await start();
    const submitted = await api.request('POST', '/api/v1/tasks', {
      json: { query: 'survives a restart', context: { steps: 3, step_duration_ms: 300 } },
    });
    expect(submitted.status).toBe(200);
    const taskId = submitted.body.task_id as string;
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/pause`)).status).toBe(202);

    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    const temporal = new Client({ connection });
    const waitingAt = await waitFor('the task to wait at a checkpoint', async () => {
      const { memo } = await temporal.workflow.getHandle(taskId).describe();
      const progress = memo?.progress as { waiting: boolean; checkpoint: string } | undefined;
      return progress?.waiting ? progress.checkpoint : undefined;
    });
    await connection.close();

    expect(await stop()).toBe(0);
    api = await start();

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
      connection: await Connection.connect({ address: `127.0.0.1:${ports.temporal}` }),
    });
    const events = (await after.workflow.getHandle(taskId).fetchHistory()).events ?? [];
    await after.connection.close();
    expect(scheduledSteps(events).map((s) => s.step)).toEqual([1, 2, 3]);
    expect(waitingAt).toMatch(/^pre_(planning|step_\d)$/);
  });
});
