/** ETag on status and control-state; If-Match on pause, resume and cancel. */
import { get } from 'node:http';
import { TestApi } from './support/api';
import { withApiAndTemporal } from './support/suite';
import { KEYS } from './support/keys';
import { TemporalObserver, signalNames } from './support/temporal';
import { waitFor } from './support/wait';

const ETAG = /^"[A-Za-z0-9_-]{27}"$/;

describe('ETag and If-Match', () => {
  let api: TestApi;
  let temporal: TemporalObserver;
  withApiAndTemporal((started, observer) => {
    api = started;
    temporal = observer;
  });

  const etagOf = async (taskId: string, what: '' | '/control-state' = ''): Promise<string> => {
    const res = await api.request('GET', `/api/v1/tasks/${taskId}${what}`);
    expect(res.status).toBe(200);
    return res.headers.get('etag')!;
  };
  const post = (taskId: string, action: string, ifMatch?: string) =>
    api.request('POST', `/api/v1/tasks/${taskId}/${action}`, {
      headers: ifMatch === undefined ? {} : { 'If-Match': ifMatch },
    });

  it('is one opaque tag for status and control-state, kept through progress, changed by control', async () => {
    const taskId = await api.submit({ steps: 3, step_duration_ms: 300 });
    await api.waitForStatus(taskId, 'TASK_STATUS_RUNNING');
    const running = await etagOf(taskId);
    expect(running).toMatch(ETAG);
    expect(await etagOf(taskId, '/control-state')).toBe(running);

    // A step of progress changes neither status nor control.
    await waitFor('a step to complete', async () => (await temporal.progress(taskId))?.steps_done);
    expect(await etagOf(taskId)).toBe(running);

    const paused = await post(taskId, 'pause', running);
    expect(paused.status).toBe(202);
    const pausedTag = paused.headers.get('etag')!;
    expect(pausedTag).toMatch(ETAG);
    expect(pausedTag).not.toBe(running);
    expect(await etagOf(taskId)).toBe(pausedTag);
    expect(await etagOf(taskId, '/control-state')).toBe(pausedTag);

    const resumed = await post(taskId, 'resume', pausedTag);
    expect(resumed.status).toBe(202);
    const resumedTag = resumed.headers.get('etag')!;
    expect([running, pausedTag]).not.toContain(resumedTag);

    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    const completed = await etagOf(taskId);
    expect([running, pausedTag, resumedTag]).not.toContain(completed);
    expect(await etagOf(taskId)).toBe(completed);
  });

  it('answers 412 with the current tag to a stale If-Match, and sends nothing', async () => {
    const taskId = await api.submit({ steps: 3, step_duration_ms: 2000 });
    await api.waitForStatus(taskId, 'TASK_STATUS_RUNNING');
    const before = await etagOf(taskId);
    const pause = await post(taskId, 'pause', before);
    expect(pause.status).toBe(202);
    const current = pause.headers.get('etag')!;

    for (const action of ['pause', 'resume', 'cancel']) {
      const stale = await post(taskId, action, before);
      expect([action, stale.status, stale.body]).toEqual([
        action,
        412,
        { error: 'Task has changed', etag: current },
      ]);
      expect(stale.headers.get('etag')).toBe(current);
    }
    // Of several tags, one current one is enough; `*` is any.
    expect((await post(taskId, 'resume', `"stale", ${current}`)).status).toBe(202);
    expect((await post(taskId, 'cancel', '*')).status).toBe(202);
    await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
    expect(signalNames(await temporal.history(taskId))).toEqual([
      'pause_v1',
      'resume_v1',
      'cancel_v1',
    ]);
  });

  it('checks If-Match before the state: a stale tag on a closed task is a 412, a current one the 409', async () => {
    const taskId = await api.submit({ steps: 1, step_duration_ms: 0 });
    const early = await etagOf(taskId);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    const closed = await etagOf(taskId);

    const stale = await post(taskId, 'pause', early);
    expect([stale.status, stale.body]).toEqual([412, { error: 'Task has changed', etag: closed }]);
    const current = await post(taskId, 'pause', closed);
    expect([current.status, current.body]).toEqual([409, { error: 'cannot pause completed task' }]);
  });

  it('takes a tag sent without its quotes as the tag, and answers 404 before any tag for another tenant', async () => {
    const taskId = await api.submit({ steps: 1, step_duration_ms: 5000 });
    await api.waitForStatus(taskId, 'TASK_STATUS_RUNNING');
    const tag = await etagOf(taskId);
    for (const other of ['abc', '"a" "b"', 'W/' + tag]) {
      const res = await post(taskId, 'pause', other);
      expect([other, res.status, res.body]).toEqual([
        other,
        412,
        { error: 'Task has changed', etag: tag },
      ]);
    }
    const foreign = await api.request('POST', `/api/v1/tasks/${taskId}/pause`, {
      key: KEYS.globexWriter,
      headers: { 'If-Match': tag },
    });
    expect([foreign.status, foreign.body]).toEqual([404, { error: 'Task not found' }]);
    expect(signalNames(await temporal.history(taskId))).toEqual([]);
    expect((await post(taskId, 'pause', tag.slice(1, -1))).status).toBe(202);
    await post(taskId, 'cancel');
  });

  it('answers 304 to If-None-Match with the current tag, for pollers', async () => {
    const taskId = await api.submit({ steps: 1, step_duration_ms: 5000 });
    await api.waitForStatus(taskId, 'TASK_STATUS_RUNNING');
    const tag = await etagOf(taskId, '/control-state');
    // node:http, because fetch adds `Cache-Control: no-cache` to a conditional request, which
    // asks the server for a full answer.
    const conditionalGet = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = get(
          `${api.baseUrl}${path}`,
          { headers: { 'X-API-Key': KEYS.acmeWriter, 'If-None-Match': tag } },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
      });

    for (const path of [`/api/v1/tasks/${taskId}/control-state`, `/api/v1/tasks/${taskId}`]) {
      expect([path, await conditionalGet(path)]).toEqual([path, { status: 304, body: '' }]);
    }
    await post(taskId, 'pause');
    const changed = await conditionalGet(`/api/v1/tasks/${taskId}/control-state`);
    expect(changed.status).toBe(200);
    expect(JSON.parse(changed.body)).toMatchObject({ is_paused: true });
    await post(taskId, 'cancel');
  });
});
