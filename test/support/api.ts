import type { INestApplication } from '@nestjs/common';
import { AppModule } from '../../src/app.module';
import { loadConfig } from '../../src/config/app-config';
import { createHttpApp } from '../../src/http-app';
import { E2E_TASK_QUEUE, clusterApiUrl, temporalEnv } from './e2e-env';
import { KEYS, writeKeysFile } from './keys';
import { waitFor } from './wait';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  /** An API key sent as X-API-Key; `null` sends none. Default: the acme writer. */
  key?: string | null;
  headers?: Record<string, string>;
  /** JSON-encoded unless `raw` is given. */
  json?: unknown;
  raw?: string | Buffer;
}

/** A client for a running API, as a backend team would call it. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    /** The key requests send unless they name another. */
    private readonly defaultKey: string = KEYS.acmeWriter,
  ) {}

  async request<T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const key = options.key === undefined ? this.defaultKey : options.key;
    const headers: Record<string, string> = { ...options.headers };
    if (key !== null) headers['X-API-Key'] = key;
    let body: string | Buffer | undefined = options.raw;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['Content-Type'] = 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: tests read `text`.
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  /** Submits a task; steps and step duration go in its context. */
  async submit(
    context: Record<string, unknown> = {},
    key: string = this.defaultKey,
  ): Promise<string> {
    const res = await this.request('POST', '/api/v1/tasks', {
      key,
      json: { query: 'Summarize the quarterly report', context },
    });
    if (res.status !== 200) throw new Error(`submit failed: ${res.status} ${res.text}`);
    return res.body.task_id as string;
  }

  async status(taskId: string, key: string = this.defaultKey): Promise<string> {
    const res = await this.request('GET', `/api/v1/tasks/${taskId}`, { key });
    if (res.status !== 200) throw new Error(`status failed: ${res.status} ${res.text}`);
    return res.body.status as string;
  }

  /** Resolves once the task reports `status`. */
  waitForStatus(taskId: string, status: string, timeoutMs = 30_000): Promise<string> {
    return waitFor(
      `${taskId} to be ${status}`,
      async () => {
        const current = await this.status(taskId);
        return current === status ? current : undefined;
      },
      timeoutMs,
    );
  }
}

/**
 * An API started in this process (the production HTTP pipeline) and a client for it; or, in
 * `npm run test:cluster`, the cluster's API instances behind their load balancer, whenever the
 * test asks for nothing they were not started with.
 */
export class TestApi extends ApiClient {
  private constructor(
    private readonly app: INestApplication | undefined,
    baseUrl: string,
    defaultKey: string,
  ) {
    super(baseUrl, defaultKey);
  }

  /** Starts the API on a free port against the run's Temporal. */
  static async start(
    options: {
      taskQueue?: string;
      temporalAddress?: string;
      /** A key file of the test's own instead of the standard test keys. */
      apiKeysFile?: string;
      /** More configuration. Rate limits are off unless a test turns them on. */
      env?: Record<string, string>;
    } = {},
  ): Promise<TestApi> {
    const cluster = clusterApiUrl();
    if (cluster && Object.keys(options).length === 0) {
      return new TestApi(undefined, cluster, KEYS.acmeWriter);
    }
    const config = loadConfig({
      NODE_ENV: 'test',
      ...temporalEnv(options.temporalAddress),
      TEMPORAL_TASK_QUEUE: options.taskQueue ?? E2E_TASK_QUEUE,
      API_KEYS_FILE: options.apiKeysFile ?? writeKeysFile(),
      RATE_LIMIT_PER_MINUTE: '0',
      AUTH_FAILURES_PER_MINUTE: '0',
      ...options.env,
    });
    const app = await createHttpApp(AppModule.forRoot(config), ['error']);
    await app.listen(0, '127.0.0.1');
    return new TestApi(app, await app.getUrl(), KEYS.acmeWriter);
  }

  async close(): Promise<void> {
    await this.app?.close();
  }
}
