/**
 * The API against hostile and careless clients, as real API processes on the run's Temporal:
 * malformed and oversized requests, slow and idle connections, floods without a key, and the
 * small contract gaps such clients find. Every answer is asserted whole.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ApiClient, TestApi } from './support/api';
import { E2E_TASK_QUEUE, temporalAddress } from './support/e2e-env';
import { KEYS, writeKeysFile } from './support/keys';
import { freePort } from './support/ports';
import { NodeProcess, ROOT, startNodeProcess } from './support/processes';
import { RawConnection, rawExchange } from './support/raw-http';
import { startRedis } from './support/redis';
import { SseStream } from './support/sse';
import { waitFor } from './support/wait';

interface ApiProcess {
  proc: NodeProcess;
  client: ApiClient;
  port: number;
  host: string;
}

/** A real API process (`npm run start:api`'s entry point), answering /health. */
async function startApiProcess(
  env: Record<string, string>,
  host = '127.0.0.1',
): Promise<ApiProcess> {
  const port = await freePort();
  const proc = startNodeProcess('main', {
    PORT: String(port),
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_TASK_QUEUE: E2E_TASK_QUEUE,
    LOG_FORMAT: 'json',
    ...env,
  });
  const client = new ApiClient(`http://${host}:${port}`);
  await waitFor('the API to listen', async () => {
    if (proc.output().includes('Start-up failed')) throw new Error(proc.output());
    return (await client.request('GET', '/health').catch(() => undefined))?.status === 200;
  });
  return { proc, client, port, host };
}

/** User plus system CPU time the process has used so far, from /proc. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3, utime field 14, stime field 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** JSON nested `depth` levels deep, about 3 bytes a level. */
const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const TASK_ROUTES = (id: string): [string, string][] => [
  ['GET', `/api/v1/tasks/${id}`],
  ['POST', `/api/v1/tasks/${id}/pause`],
  ['POST', `/api/v1/tasks/${id}/resume`],
  ['POST', `/api/v1/tasks/${id}/cancel`],
  ['GET', `/api/v1/tasks/${id}/control-state`],
  ['GET', `/api/v1/tasks/${id}/events`],
  ['GET', `/api/v1/tasks/${id}/stream`],
];

const TOO_LARGE = { error: 'Request body too large: the limit is 1 MiB' };

describe('hostile and sloppy clients', () => {
  /** Short timeouts so the tests can watch them act; listening on 127.0.0.2 only (HOST). */
  const HOST = '127.0.0.2';
  let api: ApiProcess;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    api = await startApiProcess(
      {
        HOST,
        API_KEYS_FILE: writeKeysFile(),
        RATE_LIMIT_PER_MINUTE: '0',
        AUTH_FAILURES_PER_MINUTE: '0',
        HTTP_HEADERS_TIMEOUT_MS: '1000',
        HTTP_REQUEST_TIMEOUT_MS: '2000',
        HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
      },
      HOST,
    );
  });
  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });
  afterAll(async () => {
    expect(await api?.proc.stop()).toBe(0);
  });

  const raw = (bytes: string | Buffer, timeoutMs = 8000) =>
    rawExchange(api.port, bytes, { host: HOST, timeoutMs });

  describe('bodies nested too deeply (1)', () => {
    const deep = `{"query":"Summarize","junk":${nested(1400)}}`;

    it.each([
      ['POST', '/api/v1/tasks', '/api/v1/tasks', undefined],
      ['POST', '/api/v1/tasks/stream', '/api/v1/tasks/stream', undefined],
      ['POST', '/api/v1/tasks/task-nope/pause', '/api/v1/tasks/:id/pause', 'task-nope'],
      ['POST', '/api/v1/tasks/task-nope/resume', '/api/v1/tasks/:id/resume', 'task-nope'],
      ['POST', '/api/v1/tasks/task-nope/cancel', '/api/v1/tasks/:id/cancel', 'task-nope'],
    ])(
      '%s %s answers 400 naming the problem, and logs one short line',
      async (method, path, route, taskId) => {
        const requestId = `nested-${randomUUID()}`;
        const logged = api.proc.output().length;
        const res = await api.client.request(method, path, {
          raw: deep,
          headers: { 'Content-Type': 'application/json', 'X-Request-ID': requestId },
        });
        expect([res.status, res.body]).toEqual([
          400,
          { error: 'Invalid request body: nested more than 64 levels deep' },
        ]);
        // Its line is written once the answer is sent: once it is there, it must be all there is.
        const lines = await waitFor('the request to be logged', () => {
          const added = api.proc.output().slice(logged);
          return added.includes(requestId) ? added.split('\n').filter(Boolean) : undefined;
        });
        expect(lines).toHaveLength(1);
        expect(lines[0].length).toBeLessThan(400);
        expect(JSON.parse(lines[0])).toEqual({
          level: 'log',
          pid: api.proc.pid,
          timestamp: expect.any(Number),
          message: {
            msg: 'request',
            request_id: requestId,
            trace_id: res.headers.get('traceparent')!.split('-')[1],
            tenant: 'acme',
            ...(taskId && { task_id: taskId }),
            method,
            route,
            status: 400,
            duration_ms: expect.any(Number),
          },
          context: 'HTTP',
        });
        expect(api.proc.output()).not.toMatch(/RangeError|Maximum call stack|Unhandled error/);
      },
    );

    it('refuses deep nesting inside context too, and accepts 64 levels', async () => {
      const tooDeep = await api.client.request('POST', '/api/v1/tasks', {
        raw: `{"query":"q","context":{"a":${nested(63)}}}`,
      });
      expect([tooDeep.status, tooDeep.body]).toEqual([
        400,
        { error: 'Invalid request body: nested more than 64 levels deep' },
      ]);
      // The body object, "context", "a" and 61 arrays: 64 levels.
      const deepest = await api.client.request('POST', '/api/v1/tasks', {
        raw: `{"query":"q","context":{"steps":1,"step_duration_ms":0,"a":${nested(61)}}}`,
      });
      expect(deepest.status).toBe(200);
    });
  });

  describe('connections (3)', () => {
    it('answers a Content-Length over 1 MiB with 413 at once and closes, body or not', async () => {
      for (const key of [KEYS.acmeWriter, undefined]) {
        const res = await raw(
          'POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
            `${key ? `X-API-Key: ${key}\r\n` : ''}Content-Length: 99999999999\r\n\r\n`,
        );
        // Before HTTP_REQUEST_TIMEOUT_MS: otherwise the answer would be a 408.
        expect([res.status, res.body, res.end]).toEqual([413, TOO_LARGE, 'closed']);
        expect(res.text).toMatch(/\r\nConnection: close\r\n/i);
      }
    });

    it('reads and discards a body of plausible size after its 413, so a load balancer never resets the client', async () => {
      const connection = await RawConnection.open(api.port, HOST);
      const body = JSON.stringify({ query: 'x'.repeat(2 * 1024 * 1024) });
      connection.send(
        'POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          `X-API-Key: ${KEYS.acmeWriter}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      );
      connection.send(body);
      // The same connection then serves the next request: the body was drained, not left.
      connection.send('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      const res = await connection.until((text) => text.includes('"healthy"'), 8000);
      expect(res.text).toMatch(/^HTTP\/1\.1 413 /);
      expect(res.text).toContain(JSON.stringify(TOO_LARGE));
      expect(res.text).toMatch(/HTTP\/1\.1 200 OK[\s\S]*\{"status":"healthy"\}$/);
      expect(res.end).toBe('timeout'); // not closed by the server
      connection.destroy();
    });

    it('answers 408 when the headers do not arrive in time, and closes', async () => {
      const res = await raw('GET /health HTTP/1.1\r\nHost: x\r\n');
      expect([res.status, res.body, res.end]).toEqual([
        408,
        { error: 'Request timeout' },
        'closed',
      ]);
    });

    it('answers 408 when the body does not arrive in time, and closes', async () => {
      const res = await raw(
        'POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          `X-API-Key: ${KEYS.acmeWriter}\r\nContent-Length: 100\r\n\r\n{"query":`,
      );
      expect([res.status, res.body, res.end]).toEqual([
        408,
        { error: 'Request timeout' },
        'closed',
      ]);
    });

    it('closes a kept-alive connection left idle', async () => {
      const res = await raw('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      expect([res.status, res.body, res.end]).toEqual([200, { status: 'healthy' }, 'closed']);
      expect(res.text).toMatch(/\r\nKeep-Alive: timeout=1\r\n/);
    });

    it('never cuts an event stream, however long it outlives those timeouts', async () => {
      const taskId = await api.client.submit({ steps: 4, step_duration_ms: 1500 });
      for (const path of [
        `/api/v1/stream/sse?workflow_id=${taskId}`,
        `/api/v1/tasks/${taskId}/stream`,
      ]) {
        const stream = await SseStream.open(`${api.client.baseUrl}${path}`, {
          'X-API-Key': KEYS.acmeWriter,
        });
        streams.push(stream);
        expect(stream.status).toBe(200);
        expect(stream.headers.get('cache-control')).toBe('no-store, no-transform');
        await stream.waitForEnd(60_000);
        expect(stream.events.map((e: { type: string }) => e.type)).toContain('WORKFLOW_COMPLETED');
        expect(stream.received.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
      }
    });

    describe('with MAX_CONNECTIONS=3', () => {
      let capped: TestApi;
      const port = () => Number(new URL(capped.baseUrl).port);

      beforeAll(async () => {
        capped = await TestApi.start({ env: { MAX_CONNECTIONS: '3' } });
      });
      afterAll(async () => {
        await capped.close();
      });

      it('closes connections beyond the cap at once, and takes new ones when one closes', async () => {
        const held = await Promise.all([1, 2, 3].map(() => RawConnection.open(port())));
        try {
          const refused = await rawExchange(port(), 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
          expect([refused.status, refused.text, refused.end === 'timeout']).toEqual([0, '', false]);
        } finally {
          held.pop()?.destroy();
        }
        const served = await waitFor('a connection to be taken again', async () => {
          const res = await rawExchange(
            port(),
            'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
          );
          return res.status === 200 ? res : undefined;
        });
        expect(served.body).toEqual({ status: 'healthy' });
        for (const connection of held) connection.destroy();
      });
    });
  });

  describe('secure defaults (4)', () => {
    it('sends security headers on API answers and on Swagger UI, and no X-Powered-By', async () => {
      for (const path of ['/api/v1/tasks?limit=1', '/docs', '/health']) {
        const res = await api.client.request('GET', path);
        expect(res.status).toBe(200);
        const headers = Object.fromEntries(
          ['x-content-type-options', 'x-frame-options', 'x-powered-by'].map((h) => [
            h,
            res.headers.get(h),
          ]),
        );
        expect([path, headers]).toEqual([
          path,
          { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'x-powered-by': null },
        ]);
        const csp = res.headers.get('content-security-policy') ?? '';
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).toContain("script-src 'self'");
        expect(csp).toContain("object-src 'none'");
      }
    });

    it('marks every task answer, success or error, Cache-Control: no-store', async () => {
      const taskId = await api.client.submit({ steps: 1, step_duration_ms: 0 });
      const running = await api.client.submit({ steps: 1, step_duration_ms: 30_000 });
      const answers = [
        await api.client.request('POST', `/api/v1/tasks/${running}/pause`),
        await api.client.request('POST', `/api/v1/tasks/${running}/cancel`),
        await api.client.request('GET', `/api/v1/tasks/${running}/actions`),
        await api.client.request('POST', '/api/v1/tasks', { json: { query: 'q' } }),
        await api.client.request('POST', '/api/v1/tasks/stream', { json: { query: 'q' } }),
        await api.client.request('POST', '/api/v1/tasks', { json: {} }),
        await api.client.request('GET', '/api/v1/tasks?limit=1'),
        await api.client.request('GET', `/api/v1/tasks/${taskId}`),
        await api.client.request('GET', `/api/v1/tasks/${taskId}/control-state`),
        await api.client.request('GET', `/api/v1/tasks/${taskId}/events`),
        await api.client.request('POST', `/api/v1/tasks/${taskId}/resume`),
        await api.client.request('GET', '/api/v1/tasks/task-nope'),
        await api.client.request('GET', '/api/v1/tasks', { key: null }),
      ];
      expect(answers.map((r) => [r.status, r.headers.get('cache-control')])).toEqual([
        [202, 'no-store'],
        [202, 'no-store'],
        [200, 'no-store'],
        [200, 'no-store'],
        [201, 'no-store'],
        [400, 'no-store'],
        [200, 'no-store'],
        [200, 'no-store'],
        [200, 'no-store'],
        [200, 'no-store'],
        [409, 'no-store'],
        [404, 'no-store'],
        [401, 'no-store'],
      ]);
    });

    it('has Swagger UI keep the key only for the page, not in localStorage', async () => {
      const init = await api.client.request('GET', '/docs/swagger-ui-init.js');
      expect(init.status).toBe(200);
      expect(init.text).toMatch(/"persistAuthorization": false/);
    });

    it('never echoes the URL of an unknown route, whose query may carry a key', async () => {
      for (const method of ['GET', 'POST']) {
        const res = await api.client.request(method, '/api/v1/nope?api_key=sk_secret_in_query', {
          key: null,
        });
        expect([res.status, res.body]).toEqual([404, { error: 'Route not found' }]);
        expect(res.text).not.toContain('sk_secret');
      }
    });

    it('listens where HOST says, and nowhere else', async () => {
      await expect(fetch(`http://127.0.0.1:${api.port}/health`)).rejects.toThrow();
      expect((await api.client.request('GET', '/health')).status).toBe(200);
    });

    it('refuses to create a key that expires in the past', () => {
      const file = join(mkdtempSync(join(tmpdir(), 'task-api-keyfile-')), 'keys.json');
      const create = (expires: string) =>
        spawnSync(
          process.execPath,
          [
            join(ROOT, 'dist/scripts/keys.js'),
            'create',
            ...['--name', `k-${expires}`, '--tenant', 'acme', '--user', 'u'],
            ...['--scopes', 'tasks:read', '--expires', expires, '--file', file],
          ],
          { env: { PATH: process.env.PATH }, encoding: 'utf8' },
        );
      const past = create('2020-01-01T00:00:00Z');
      expect([past.status, past.stdout, past.stderr]).toEqual([
        2,
        '',
        '--expires must be in the future: 2020-01-01T00:00:00.000Z has passed\n',
      ]);
      const now = create('0d');
      expect([now.status, now.stdout]).toEqual([2, '']);
      expect(now.stderr).toMatch(/^--expires must be in the future: .* has passed\n$/);
      expect(create('1d').status).toBe(0);
      const stored = JSON.parse(readFileSync(file, 'utf8')) as { name: string }[];
      expect(stored.map((k) => k.name)).toEqual(['k-1d']);
    });
  });

  describe('contract gaps (5)', () => {
    it.each(['%ff', '%', 'a%2'])(
      'answers 400 Invalid task ID format for the badly encoded ID %s on every task route',
      async (id) => {
        for (const [method, path] of TASK_ROUTES(id)) {
          const res = await api.client.request(method, path);
          expect([method, path, res.status, res.body]).toEqual([
            method,
            path,
            400,
            { error: 'Invalid task ID format' },
          ]);
        }
      },
    );

    it('answers what Node refuses before the app with JSON: 400 and 431', async () => {
      const bad = await raw('GET /health HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n');
      expect([bad.status, bad.body, bad.end]).toEqual([400, { error: 'Bad request' }, 'closed']);
      const large = await raw(
        `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      expect([large.status, large.body, large.end]).toEqual([
        431,
        { error: 'Request headers too large' },
        'closed',
      ]);
      expect(large.text).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/);
    });

    it.each([
      ['/api/v1/tasks?limit=1e2', 'Invalid limit parameter'],
      ['/api/v1/tasks?limit=0x10', 'Invalid limit parameter'],
      ['/api/v1/tasks?limit=%205', 'Invalid limit parameter'],
      ['/api/v1/tasks?offset=', 'Invalid offset parameter'],
      ['/api/v1/tasks?offset=1e1', 'Invalid offset parameter'],
      ['/api/v1/tasks/task-nope/events?limit=1e2', 'Invalid limit parameter'],
      ['/api/v1/tasks/task-nope/events?limit=0x10', 'Invalid limit parameter'],
      ['/api/v1/tasks/task-nope/events?offset=', 'Invalid offset parameter'],
    ])('answers 400 for %s', async (path, error) => {
      const res = await api.client.request('GET', path);
      expect([res.status, res.body]).toEqual([400, { error }]);
    });

    it.each([
      ['NUL', '\u0000'],
      ['zero-width characters', '\u200b\u200c\u200d\u2060'],
      ['a byte order mark', '\ufeff'],
      ['whitespace', ' \t\n\u00a0\u3000'],
    ])('answers 400 Query is required for a query of only %s', async (_, query) => {
      for (const path of ['/api/v1/tasks', '/api/v1/tasks/stream']) {
        const res = await api.client.request('POST', path, { json: { query } });
        expect([path, res.status, res.body]).toEqual([path, 400, { error: 'Query is required' }]);
      }
    });

    it.each([
      [
        '/api/v1/tasks',
        { query: 'q', mode: null },
        'mode must be one of simple, standard, complex, supervisor',
      ],
      ['/api/v1/tasks', { query: 'q', session_id: null }, 'session_id must be a string'],
      ['/api/v1/tasks', { query: 'q', context: null }, 'context must be a JSON object'],
      [
        '/api/v1/tasks/stream',
        { query: 'q', model_tier: null },
        'model_tier must be one of small, medium, large',
      ],
      ['/api/v1/tasks/task-nope/pause', { reason: null }, 'reason must be a string'],
    ])(
      'answers 400 for null where the schema allows only a value: %s %j',
      async (path, json, error) => {
        const res = await api.client.request('POST', path, { json });
        expect([res.status, res.body]).toEqual([400, { error }]);
      },
    );

    it('reads a huge offset as past the end, not as an error', async () => {
      const res = await api.client.request('GET', '/api/v1/tasks?offset=23527393224796131033088');
      expect([res.status, res.body.tasks]).toEqual([200, []]);
    });

    it('replays an idempotent submit whatever its key order and spelled-out defaults', async () => {
      const key = randomUUID();
      const submit = (raw: string) =>
        api.client.request('POST', '/api/v1/tasks', {
          raw,
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
        });
      const first = await submit(
        '{"query":"Idempotent","context":{"steps":1,"step_duration_ms":0,"tags":{"b":1,"a":2}}}',
      );
      expect(first.status).toBe(200);
      const again = await submit(
        '{"mode":"standard","context":{"tags":{"a":2,"b":1},"step_duration_ms":0,"steps":1},' +
          '"query":"Idempotent"}',
      );
      // The same answer, created_at included: the time Temporal started the task.
      expect([again.status, again.body]).toEqual([200, first.body]);
      const status = await api.client.request('GET', `/api/v1/tasks/${first.body.task_id}`);
      expect(status.body.created_at).toBe(first.body.created_at);

      const other = await submit('{"query":"Idempotent","mode":"complex"}');
      expect([other.status, other.body]).toEqual([
        422,
        { error: 'Idempotency-Key was already used with a different request' },
      ]);
    });
  });
});

describe('strangers without a key (2)', () => {
  const FLOOD = 200;
  const CONCURRENCY = 10;
  /** AUTH_FAILURES_PER_MINUTE's default. */
  const BUDGET = 30;
  /**
   * What 200 unread bodies may add to the API's CPU time. Measured here: 0–150 ms unread,
   * ~650 ms when they were read before the key was checked.
   */
  const BODY_CPU_ALLOWANCE_MS = 300;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let apis: ApiProcess[];

  beforeAll(async () => {
    redis = await startRedis();
    const env = {
      API_KEYS_FILE: writeKeysFile(),
      REDIS_URL: redis.url,
      // The test tells the instances which client it is, as a load balancer would.
      TRUST_PROXY: 'loopback',
    };
    apis = [await startApiProcess(env), await startApiProcess(env)];
  });
  afterAll(async () => {
    for (const a of apis ?? []) expect(await a.proc.stop()).toBe(0);
    await redis?.stop();
  });

  /**
   * Sends FLOOD unauthenticated submits from one client address, CONCURRENCY at a time, with a
   * /health check after every tenth; returns the statuses and the API's CPU time for all of it.
   */
  async function flood(
    api: ApiProcess,
    address: string,
    body: (i: number) => { raw?: Buffer; headers?: Record<string, string> },
  ): Promise<{ statuses: number[]; health: number[]; cpu: number }> {
    const statuses: number[] = [];
    const health: number[] = [];
    let sent = 0;
    const cpuBefore = cpuMs(api.proc.pid);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < FLOOD) {
          const i = sent++;
          const { raw, headers } = body(i);
          const res = await api.client.request('POST', '/api/v1/tasks', {
            key: null,
            raw,
            headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': address, ...headers },
          });
          statuses.push(res.status);
          if (res.status === 401) expect(res.body).toEqual({ error: 'Unauthorized' });
          else {
            expect([res.status, res.body]).toEqual([429, { error: 'Rate limit exceeded' }]);
            expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
            expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
          }
          if (i % 10 === 9) health.push((await api.client.request('GET', '/health')).status);
        }
      }),
    );
    return { statuses, health, cpu: cpuMs(api.proc.pid) - cpuBefore };
  }

  it('costs the API no more for a flood of 1 MB bodies than for empty requests', async () => {
    const [api] = apis;
    const json = Buffer.from(JSON.stringify({ query: 'x'.repeat(1_000_000 - 12) }));
    // 64 MiB of JSON in ~64 KB: what a parser would inflate before it could refuse it.
    const bomb = gzipSync(Buffer.from(`{"query":"${' '.repeat(64 * 1024 * 1024)}"}`));

    // The same requests without a body first: the cost of answering them at all.
    const empty = await flood(api, '198.51.100.1', () => ({}));
    const bodies = await flood(api, '198.51.100.2', (i) =>
      i % 2 === 0 ? { raw: json } : { raw: bomb, headers: { 'Content-Encoding': 'gzip' } },
    );

    for (const { statuses, health } of [empty, bodies]) {
      // Exactly the address's budget is answered 401, everything after it 429.
      expect(statuses.filter((s) => s === 401).length).toBe(BUDGET);
      expect(statuses.filter((s) => s === 429).length).toBe(FLOOD - BUDGET);
      expect(health).toEqual(Array(FLOOD / 10).fill(200));
    }
    process.stdout.write(
      `API CPU for ${FLOOD} requests without a key: ${empty.cpu} ms without a body, ` +
        `${bodies.cpu} ms with 1 MB bodies\n`,
    );
    // Read before the key was checked, these bodies cost ~650 ms more than empty requests
    // (parsing 1 MB of JSON, inflating gzip up to the limit); unread, next to nothing.
    expect(bodies.cpu - empty.cpu).toBeLessThan(BODY_CPU_ALLOWANCE_MS);
  });

  it('shares the address budget across instances, and never refuses a valid key', async () => {
    const [first, second] = apis;
    // The flood spent this address's budget on the first instance: the second knows it too.
    const address = { 'X-Forwarded-For': '198.51.100.2' };
    const refused = await second.client.request('GET', '/api/v1/tasks', {
      key: 'sk_wrong',
      headers: address,
    });
    expect([refused.status, refused.body]).toEqual([429, { error: 'Rate limit exceeded' }]);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');

    // A valid key from the same address still works, on both instances.
    for (const instance of [first, second]) {
      const res = await instance.client.request('GET', '/api/v1/tasks?limit=1', {
        key: KEYS.acmeReader,
        headers: address,
      });
      expect(res.status).toBe(200);
    }
    // Another client address has its own budget.
    const elsewhere = await second.client.request('GET', '/api/v1/tasks', {
      key: 'sk_wrong',
      headers: { 'X-Forwarded-For': '203.0.113.7' },
    });
    expect([elsewhere.status, elsewhere.body]).toEqual([401, { error: 'Unauthorized' }]);
  });
});
