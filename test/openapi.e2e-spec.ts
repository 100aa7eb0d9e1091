/** The OpenAPI document served by the app, its committed copy, and Swagger UI. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COMMITTED_OPENAPI, stableJson } from '../src/scripts/openapi-document';
import { STREAM_EVENT_TYPES } from '../src/tasks/task-event';
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

  it("passes Redocly's recommended ruleset with no error or warning (redocly.yaml)", async () => {
    const root = join(__dirname, '..');
    // Offline: telemetry is off in redocly.yaml, and no look-up of newer versions.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [require.resolve('@redocly/cli/bin/cli.js'), 'lint', COMMITTED_OPENAPI, '--format=json'],
      {
        cwd: root,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
      // Exits 1 when there are problems: the report is still on stdout.
    ).catch((err: Error & { stdout?: string }) => ({ stdout: err.stdout ?? err.message }));
    const report = JSON.parse(stdout);
    const problems = report.problems.map(
      (p: any) => `${p.severity} ${p.ruleId} at ${p.location?.[0]?.pointer}: ${p.message}`,
    );
    expect(problems).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
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

  it('documents each event of the streams, and the public routes as public', () => {
    for (const path of ['/api/v1/stream/sse', '/api/v1/tasks/{id}/stream']) {
      const content = served.paths[path].get.responses['200'].content;
      expect(Object.keys(content)).toEqual(['text/event-stream']);
      const event = content['text/event-stream'].schema;
      expect(Object.keys(event.properties)).toEqual(['id', 'event', 'data']);
      expect(event.properties.event.enum).toEqual([...STREAM_EVENT_TYPES, 'done', 'error']);
    }
    expect(served.paths['/health'].get.security).toEqual([]);
    expect(served.paths['/readiness'].get.security).toEqual([]);
  });

  it('offers an example for every request body, path parameter and documented response', () => {
    const schemas = served.components.schemas as Record<string, any>;
    const resolve = (schema: any): any =>
      schema?.$ref ? schemas[schema.$ref.replace('#/components/schemas/', '')] : schema;
    /** What Swagger UI cannot fill with a realistic value: the paths of example-less fields. */
    const bare = (schema: any, at: string, seen = new Set<any>()): string[] => {
      const s = resolve(schema);
      if (!s || seen.has(s) || s.example !== undefined || s.enum || s.default !== undefined) {
        return [];
      }
      seen.add(s);
      if (s.allOf) return s.allOf.flatMap((part: any) => bare(part, at, seen));
      if (s.type === 'array') return bare(s.items, `${at}[]`, seen);
      if (s.properties) {
        return (
          Object.entries(s.properties)
            // `result` parsed, when it is a JSON object: an invented one would mislead.
            .filter(([name]) => name !== 'response')
            .flatMap(([name, prop]) => bare(prop, `${at}.${name}`, seen))
        );
      }
      return s.type ? [at] : [];
    };
    const missing: string[] = [];
    for (const [path, methods] of Object.entries(served.paths as Record<string, any>)) {
      for (const op of Object.values<any>(methods)) {
        const where = op.operationId;
        for (const param of op.parameters ?? []) {
          if (param.in === 'path' && param.example === undefined && !param.schema?.example) {
            missing.push(`${where} ${path} parameter ${param.name}`);
          }
        }
        const body = op.requestBody?.content?.['application/json'];
        if (body && !body.example && !body.examples) {
          missing.push(...bare(body.schema, `${where} request`));
        }
        for (const [status, response] of Object.entries<any>(op.responses)) {
          for (const [type, media] of Object.entries<any>(response.content ?? {})) {
            if (media.example === undefined && !media.examples) {
              missing.push(...bare(media.schema, `${where} ${status} ${type}`));
            }
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await api.request('GET', '/docs', { key: null });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Swagger UI');
  });
});
