/**
 * A typed client of the task control API: one function per route, typed from the committed
 * OpenAPI document (`src/schema.ts`, generated), documented error answers thrown as
 * `TaskApiError`, and event streams followed as async iterators that resume after a dropped
 * connection.
 */
import createClient, { type Client } from 'openapi-fetch';
import { TaskApiError, errorBody } from './errors';
import type { components, operations, paths } from './schema';
import { type FollowOptions, type TaskStreamEvent, followStream } from './stream';

export { type ApiErrorBody, TaskApiError } from './errors';
export type { components, operations, paths } from './schema';
export {
  type FollowOptions,
  type LiveEventType,
  type LiveTaskEvent,
  type TaskEvent,
  type TaskEventType,
  type TaskStreamEvent,
  TaskStreamError,
} from './stream';

type Schemas = components['schemas'];

export type SubmitTaskRequest = Schemas['SubmitTaskDto'];
export type SubmitTaskResponse = Schemas['SubmitTaskResponseDto'];
export type SubmitTaskStreamResponse = Schemas['SubmitTaskStreamResponseDto'];
export type TaskStatus = Schemas['TaskStatusResponseDto'];
export type ControlState = Schemas['ControlStateResponseDto'];
export type ControlRequest = Schemas['ControlRequestDto'];
export type PauseRequest = Schemas['PauseRequestDto'];
export type ControlAccepted = Schemas['ControlAcceptedResponseDto'];
export type ListTasksQuery = NonNullable<operations['listTasks']['parameters']['query']>;
export type ListTasksResponse = Schemas['ListTasksResponseDto'];
export type TaskEventsResponse = Schemas['TaskEventsResponseDto'];
export type TaskActionsResponse = Schemas['TaskActionsResponseDto'];
/** (The document's "at least one condition" rule is too much for the generated type.) */
export type BatchRequest = Omit<Schemas['BatchRequestDto'], 'filter'> & {
  filter: Schemas['BatchFilterDto'];
};
export type BatchDryRunResponse = Schemas['BatchDryRunResponseDto'];
export type BatchAcceptedResponse = Schemas['BatchAcceptedResponseDto'];
export type BatchStatus = Schemas['BatchStatusResponseDto'];
export type ApprovalDecision = Schemas['ApprovalDecisionDto'];
export type ApprovalDecisionResponse = Schemas['ApprovalDecisionResponseDto'];
export type ApprovalList = Schemas['ApprovalListResponseDto'];
export type HealthResponse = operations['health']['responses'][200]['content']['application/json'];
/** The same shape ready (200) or not (503). */
export type ReadinessResponse =
  operations['readiness']['responses'][200]['content']['application/json'];

export interface TaskClientOptions {
  /** Where the API is, e.g. `http://localhost:8080` (no path). */
  baseUrl: string;
  /** Sent as `X-API-Key`. */
  apiKey: string;
  /** Another fetch (tests, proxies); globalThis.fetch by default. */
  fetch?: typeof fetch;
}

/** Conditional control: act only while the task's ETag is one of these (412 otherwise). */
export interface IfMatchOptions {
  ifMatch?: string;
}

export interface PageOptions {
  limit?: number;
  offset?: number;
}

/** What openapi-fetch answers; `error` is the parsed body of a non-2xx answer. */
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a 2xx answer, or a TaskApiError with the documented error body. */
function body<T>({ data, error, response }: Answer<T>): T {
  if (response.ok) return data as T;
  throw new TaskApiError(response.status, errorBody(error, response));
}

/** The typed routes of the task control API. */
export class TaskClient {
  /** The underlying openapi-fetch client, for headers and answers the functions do not expose. */
  readonly raw: Client<paths>;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: TaskClientOptions) {
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    const fetchImpl = this.fetchImpl;
    this.raw = createClient<paths>({
      baseUrl: options.baseUrl,
      headers: { 'X-API-Key': options.apiKey },
      fetch: (request) => fetchImpl(request),
    });
  }

  async submitTask(
    request: SubmitTaskRequest,
    options: { idempotencyKey?: string } = {},
  ): Promise<SubmitTaskResponse> {
    return body(
      await this.raw.POST('/api/v1/tasks', {
        body: request,
        params: { header: { 'Idempotency-Key': options.idempotencyKey } },
      }),
    );
  }

  /** Submits and answers with the URL of the task's event stream (see `followStream`). */
  async submitTaskAndStream(
    request: SubmitTaskRequest,
    options: { idempotencyKey?: string } = {},
  ): Promise<SubmitTaskStreamResponse> {
    return body(
      await this.raw.POST('/api/v1/tasks/stream', {
        body: request,
        params: { header: { 'Idempotency-Key': options.idempotencyKey } },
      }),
    );
  }

  async listTasks(query: ListTasksQuery = {}): Promise<ListTasksResponse> {
    return body(await this.raw.GET('/api/v1/tasks', { params: { query } }));
  }

  async getTask(id: string): Promise<TaskStatus> {
    return body(await this.raw.GET('/api/v1/tasks/{id}', { params: { path: { id } } }));
  }

  async getControlState(id: string): Promise<ControlState> {
    return body(
      await this.raw.GET('/api/v1/tasks/{id}/control-state', { params: { path: { id } } }),
    );
  }

  async pauseTask(
    id: string,
    request: PauseRequest = {},
    options: IfMatchOptions = {},
  ): Promise<ControlAccepted> {
    return body(
      await this.raw.POST('/api/v1/tasks/{id}/pause', {
        params: { path: { id }, header: { 'If-Match': options.ifMatch } },
        body: request,
      }),
    );
  }

  async resumeTask(
    id: string,
    request: ControlRequest = {},
    options: IfMatchOptions = {},
  ): Promise<ControlAccepted> {
    return body(
      await this.raw.POST('/api/v1/tasks/{id}/resume', {
        params: { path: { id }, header: { 'If-Match': options.ifMatch } },
        body: request,
      }),
    );
  }

  async cancelTask(
    id: string,
    request: ControlRequest = {},
    options: IfMatchOptions = {},
  ): Promise<ControlAccepted> {
    return body(
      await this.raw.POST('/api/v1/tasks/{id}/cancel', {
        params: { path: { id }, header: { 'If-Match': options.ifMatch } },
        body: request,
      }),
    );
  }

  /** The task's stored events, oldest first (the stream's events with an `id`). */
  async listTaskEvents(id: string, page: PageOptions = {}): Promise<TaskEventsResponse> {
    return body(
      await this.raw.GET('/api/v1/tasks/{id}/events', { params: { path: { id }, query: page } }),
    );
  }

  /** The task's audit trail, oldest first. */
  async listTaskActions(id: string, page: PageOptions = {}): Promise<TaskActionsResponse> {
    return body(
      await this.raw.GET('/api/v1/tasks/{id}/actions', { params: { path: { id }, query: page } }),
    );
  }

  /** The approval gates a task reached, oldest first, with their decisions. */
  async listTaskApprovals(id: string): Promise<ApprovalList> {
    return body(await this.raw.GET('/api/v1/tasks/{id}/approvals', { params: { path: { id } } }));
  }

  /** Approves or rejects a pending approval (the body Shannon's SDK sends). */
  async decideApproval(decision: ApprovalDecision): Promise<ApprovalDecisionResponse> {
    return body(await this.raw.POST('/api/v1/approvals/decision', { body: decision }));
  }

  /** A dry run answers how many tasks match; otherwise the batch starts (see `getBatch`). */
  async startBatch(request: BatchRequest): Promise<BatchDryRunResponse | BatchAcceptedResponse> {
    return body(await this.raw.POST('/api/v1/tasks/batch', { body: request }));
  }

  async getBatch(id: string): Promise<BatchStatus> {
    return body(await this.raw.GET('/api/v1/batches/{id}', { params: { path: { id } } }));
  }

  async health(): Promise<HealthResponse> {
    return body(await this.raw.GET('/health'));
  }

  /** Ready or not, as the probe sees it: a 503 answers the report too, it does not throw. */
  async readiness(): Promise<ReadinessResponse> {
    const { data, error, response } = await this.raw.GET('/readiness');
    if (response.status === 503) return error as ReadinessResponse;
    return body({ data, error, response });
  }

  /**
   * The task's events as they happen (`GET /api/v1/tasks/{id}/stream`): those after
   * `lastEventId` (all by default), then live ones, until the task is closed. A dropped
   * connection is resumed with `Last-Event-ID`, so no event is missed or repeated.
   */
  followTask(id: string, options: FollowOptions = {}): AsyncGenerator<TaskStreamEvent, void> {
    return this.followStream(`/api/v1/tasks/${encodeURIComponent(id)}/stream`, options);
  }

  /** As `followTask`, for the `stream_url` of `submitTaskAndStream` (`GET /api/v1/stream/sse`). */
  followStream(
    streamUrl: string,
    options: FollowOptions = {},
  ): AsyncGenerator<TaskStreamEvent, void> {
    return followStream(new URL(streamUrl, this.options.baseUrl), {
      apiKey: this.options.apiKey,
      fetch: this.fetchImpl,
      ...options,
    });
  }
}
