/** The OpenAPI document served by the app, its committed copy, and Swagger UI. */
import { readFileSync } from 'node:fs';
import { COMMITTED_OPENAPI, stableJson } from '../src/scripts/openapi-document';
import { TestApi } from './support/api';

describe('OpenAPI document', () => {
  let api: TestApi;
  let served: any;

  beforeAll(async () => {
    api = await TestApi.start();
    served = (await api.request('GET', '/openapi.json', { key: null })).body;
  });
  afterAll(async () => {
    await api.close();
  });

  it('matches the committed openapi.json (refresh it with `npm run openapi`)', () => {
    expect(stableJson(served)).toEqual(readFileSync(COMMITTED_OPENAPI, 'utf8'));
  });

  it('documents every route of the contract with a stable operationId', () => {
    const operations = Object.entries(served.paths as Record<string, Record<string, any>>).flatMap(
      ([path, methods]) =>
        Object.entries(methods).map(
          ([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`,
        ),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /api/v1/batches/{id} getBatch',
        'GET /api/v1/stream/sse streamEvents',
        'GET /api/v1/tasks listTasks',
        'GET /api/v1/tasks/{id} getTask',
        'GET /api/v1/tasks/{id}/actions listTaskActions',
        'GET /api/v1/tasks/{id}/approvals listTaskApprovals',
        'GET /api/v1/tasks/{id}/control-state getTaskControlState',
        'GET /api/v1/tasks/{id}/events listTaskEvents',
        'GET /api/v1/tasks/{id}/stream streamTaskEvents',
        'GET /health health',
        'GET /readiness readiness',
        'POST /api/v1/approvals/decision decideApproval',
        'POST /api/v1/tasks submitTask',
        'POST /api/v1/tasks/batch startBatch',
        'POST /api/v1/tasks/stream submitTaskAndStream',
        'POST /api/v1/tasks/{id}/cancel cancelTask',
        'POST /api/v1/tasks/{id}/pause pauseTask',
        'POST /api/v1/tasks/{id}/resume resumeTask',
      ].sort(),
    );
  });

  it("documents resume's responses with their exact bodies", () => {
    const resume = served.paths['/api/v1/tasks/{id}/resume'].post;
    expect(resume.responses['202'].content['application/json'].example).toEqual({
      success: true,
      message: 'Resume signal sent',
      task_id: 'task-123',
    });
    expect(resume.responses['404'].content['application/json'].examples).toEqual({
      not_found: { value: { error: 'Task not found' } },
    });
    const conflicts = Object.values(
      resume.responses['409'].content['application/json'].examples,
    ).map((e: any) => e.value);
    expect(conflicts).toEqual([
      { error: 'cannot resume completed task' },
      { error: 'cannot resume failed task' },
      { error: 'cannot resume cancelled task' },
      { error: 'cannot resume timed out task' },
      { error: 'task is not paused' },
    ]);
    expect(resume.responses['401'].content['application/json'].example).toEqual({
      error: 'Unauthorized',
    });
    expect(resume.responses['403'].content['application/json'].example).toEqual({
      error: 'Forbidden',
    });
    expect(resume.security).toEqual([{ api_key: [] }, { bearer: [] }]);
    expect(served.components.securitySchemes.api_key).toEqual({
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
    });
  });

  it('documents the event stream as text/event-stream', () => {
    const sse = served.paths['/api/v1/stream/sse'].get;
    expect(Object.keys(sse.responses['200'].content)).toEqual(['text/event-stream']);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await api.request('GET', '/docs', { key: null });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Swagger UI');
  });
});
