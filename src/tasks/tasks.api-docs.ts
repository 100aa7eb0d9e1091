/**
 * The OpenAPI documentation of the task routes, one composed decorator per route, so the
 * controller reads as routes and handlers. Example error bodies come from the error classes
 * and the accepted messages from the constants the handlers answer with: the document cannot
 * drift from what the API says.
 */
import { applyDecorators } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { ApiError } from '../common/api-responses';
import { ControlRequestDto, PauseRequestDto } from './dto/control-request.dto';
import { ListTasksResponseDto } from './dto/list-tasks.dto';
import {
  SubmitTaskDto,
  SubmitTaskResponseDto,
  SubmitTaskStreamResponseDto,
} from './dto/submit-task.dto';
import { TaskActionsResponseDto } from './dto/task-actions.dto';
import {
  ControlAcceptedResponseDto,
  ControlStateResponseDto,
  TaskChangedResponseDto,
  TaskStatusResponseDto,
  TerminalStateResponseDto,
} from './dto/task-responses.dto';
import { IdempotencyConflictError, TaskNotFoundError, TaskStateConflictError } from './errors';
import { ApiIdempotencyKeyHeader } from './idempotency-key';
import { ApiTaskIdParam } from './task-id.pipe';
import { TERMINAL_WORDS, type TerminalStatus } from './task-status';

/** What pause, resume and cancel answer with when accepted. */
export const ACCEPTED_MESSAGES = {
  pause: 'Pause signal sent',
  resume: 'Resume signal sent',
  cancel: 'Task cancelled successfully',
} as const;

export const SUBMITTED_MESSAGE = 'Task submitted successfully';

/** Also the 404 of the event routes. */
export const ApiTaskNotFound = () =>
  ApiError(404, 'No such task for this tenant', { not_found: new TaskNotFoundError().message });

const IdempotencyConflict = () =>
  ApiError(422, 'The Idempotency-Key was used with another body', {
    idempotency: new IdempotencyConflictError().message,
  });

/** The 409 examples of pause or resume on a closed task, keyed by its status in lower case. */
const closedConflicts = (action: 'pause' | 'resume'): Record<string, string> =>
  Object.fromEntries(
    (Object.keys(TERMINAL_WORDS) as TerminalStatus[]).map((status) => [
      TERMINAL_WORDS[status].replace(' ', '_'),
      TaskStateConflictError.closed(action, status).message,
    ]),
  );

/** The optional `{"reason"}` body of resume and cancel. */
const ControlBody = () =>
  ApiBody({
    type: ControlRequestDto,
    required: false,
    examples: { reason: { value: { reason: 'User approved continuation' } } },
  });

/** The submit body, with examples for Swagger UI's "Try it out". */
const SubmitBody = () =>
  ApiBody({
    type: SubmitTaskDto,
    examples: {
      simple: {
        summary: 'A task',
        value: {
          query: 'Summarize the quarterly report',
          session_id: 'session-2026-q1',
          context: { steps: 3, step_duration_ms: 1000 },
          mode: 'standard',
          model_tier: 'small',
        },
      },
      webhook: {
        summary: 'A task whose events are POSTed to a webhook',
        value: {
          query: 'Summarize the quarterly report',
          webhook: {
            url: 'https://hooks.example.com/task-events',
            events: ['workflow.paused', 'WORKFLOW_COMPLETED', 'WORKFLOW_FAILED'],
          },
        },
      },
      approval: {
        summary: 'A task that waits for a person to approve it before its synthesis',
        value: {
          query: 'Pay the March invoices',
          context: { steps: 3 },
          approval: {
            checkpoints: ['pre_synthesis'],
            timeout_seconds: 86400,
            on_timeout: 'reject',
          },
        },
      },
    },
  });

const WEBHOOK_ERRORS = {
  webhook_private: 'webhook.url must not point to a loopback, private or other non-public address',
  webhook_scheme: 'webhook.url must be an http or https URL',
  webhook_no_secret:
    'webhook cannot be used: this service has no WEBHOOK_SECRET to sign deliveries with',
  approval_checkpoint:
    'approval.checkpoints may only name pre_planning, pre_step_<1..50>, pre_synthesis or pre_completion',
};

/** Both submit routes check the body alike. */
const SubmitErrors = () =>
  ApiError(400, 'Bad input; the message names the problem', {
    query_required: 'Query is required',
    malformed: 'Invalid request body: Unexpected end of JSON input',
    too_deep: 'Invalid request body: nested more than 64 levels deep',
    ...WEBHOOK_ERRORS,
  });

const ETAG_HEADER = {
  ETag: {
    description:
      "The task's version: changes whenever its status or control state does, the same on " +
      'every API instance. Send it back as `If-Match` to act only on the state you read.',
    schema: { type: 'string' },
  },
};

const Accepted = (message: string) =>
  ApiAcceptedResponse({
    type: ControlAcceptedResponseDto,
    example: { success: true, message, task_id: 'task-123' },
    headers: {
      ETag: {
        description: 'The ETag of the state this action leads to',
        schema: { type: 'string' },
      },
    },
  });

/** A poller's conditional GET: 304 while the task's ETag is the one it has. */
const IfNoneMatch = () =>
  applyDecorators(
    ApiHeader({
      name: 'If-None-Match',
      required: false,
      schema: { type: 'string' },
      description: 'An ETag read before: 304 with no body while it is still the current one',
    }),
    ApiResponse({
      status: 304,
      description: 'Unchanged since the ETag given in If-None-Match',
      headers: ETAG_HEADER,
    }),
  );

/** Optimistic concurrency on pause, resume and cancel. */
const IfMatch = () =>
  applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      schema: { type: 'string' },
      description:
        'An ETag from GET of the task or its control-state, or several separated by commas ' +
        '(`*`: any). When none is the current one: 412 and nothing is sent to the task. Of two ' +
        'requests with the same If-Match, at most one is accepted. A tag sent without its ' +
        'quotes is taken as the tag.',
    }),
    ApiResponse({
      status: 412,
      description: 'If-Match names no current ETag of the task: nothing was sent',
      type: TaskChangedResponseDto,
      headers: ETAG_HEADER,
    }),
  );

/** The 400s of pause, resume and cancel. */
const BadControlRequest = (examples: Record<string, string> = {}) =>
  ApiError(400, 'Bad input; the message names the problem', {
    invalid_id: 'Invalid task ID format',
    too_deep: 'Invalid request body: nested more than 64 levels deep',
    reason: 'reason must be at most 1000 characters',
    ...examples,
  });

export const SUBMITTED_HEADERS = {
  'X-Workflow-ID': { description: 'The task ID', schema: { type: 'string' } },
  'X-Session-ID': { description: 'The session ID, given or generated', schema: { type: 'string' } },
};

/** Pause's `on_timeout` is only taken together with `timeout_seconds`. */
export const ON_TIMEOUT_ALONE = 'on_timeout needs timeout_seconds';

/**
 * Decorators as they would be stacked on a method, top to bottom: Nest applies stacked ones
 * bottom-up, applyDecorators in its own order, and the document's parameter order follows.
 */
const stacked = (...decorators: Array<ClassDecorator | MethodDecorator | PropertyDecorator>) =>
  applyDecorators(...[...decorators].reverse());

export const ApiSubmitTask = () =>
  stacked(
    ApiOperation({ operationId: 'submitTask', summary: 'Submit a task' }),
    SubmitBody(),
    ApiIdempotencyKeyHeader(),
    ApiOkResponse({ type: SubmitTaskResponseDto, headers: SUBMITTED_HEADERS }),
    SubmitErrors(),
    IdempotencyConflict(),
  );

export const ApiSubmitTaskAndStream = () =>
  stacked(
    ApiOperation({
      operationId: 'submitTaskAndStream',
      summary: 'Submit a task and get the URL of its event stream',
      description: 'A client that connects to `stream_url` afterwards still receives every event.',
    }),
    SubmitBody(),
    ApiIdempotencyKeyHeader(),
    ApiCreatedResponse({
      type: SubmitTaskStreamResponseDto,
      headers: {
        ...SUBMITTED_HEADERS,
        Link: { description: '`<stream_url>; rel=stream`', schema: { type: 'string' } },
      },
    }),
    SubmitErrors(),
    IdempotencyConflict(),
  );

export const ApiListTasks = () =>
  stacked(
    ApiOperation({
      operationId: 'listTasks',
      summary: "The caller's tasks, newest first",
      description:
        'Newest first by `created_at`, ties by `task_id`. Page with `limit` and `offset`, or walk ' +
        'with `cursor` (each page costs the same however deep it is; `offset` reads every task ' +
        "before it). The list is read from Temporal's visibility store, which trails writes: a " +
        'task appears in it, and a status filter matches a change, a fraction of a second after ' +
        'the answer that made it (see the README); GET /api/v1/tasks/{id} is exact at once.',
    }),
    ApiOkResponse({ type: ListTasksResponseDto }),
    ApiError(400, 'A bad query parameter', {
      limit: 'Invalid limit parameter',
      offset: 'Invalid offset parameter',
      status: 'Invalid status value',
      session: 'Invalid session_id format',
      cursor: 'Invalid cursor parameter',
    }),
  );

export const ApiGetTask = () =>
  stacked(
    ApiOperation({ operationId: 'getTask', summary: "A task's status and result" }),
    ApiTaskIdParam(),
    ApiOkResponse({
      type: TaskStatusResponseDto,
      headers: { 'X-Workflow-ID': SUBMITTED_HEADERS['X-Workflow-ID'], ...ETAG_HEADER },
    }),
    IfNoneMatch(),
    ApiTaskNotFound(),
  );

export const ApiPauseTask = () =>
  stacked(
    ApiOperation({
      operationId: 'pauseTask',
      summary: 'Pause a task at its next checkpoint',
      description: 'An activity already running finishes first.',
    }),
    ApiTaskIdParam(),
    ApiExtraModels(PauseRequestDto),
    ApiBody({
      required: false,
      schema: {
        allOf: [{ $ref: getSchemaPath(PauseRequestDto) }],
        // on_timeout only together with timeout_seconds. (`properties` names on_timeout for
        // linters, which cannot see the allOf above from inside `not`; it adds no constraint.)
        anyOf: [
          { not: { properties: { on_timeout: {} }, required: ['on_timeout'] } },
          { required: ['timeout_seconds'] },
        ],
      },
      examples: {
        reason: { value: { reason: 'Waiting for legal review' } },
        deadline: {
          summary: 'Cancel the task unless resumed within an hour',
          value: {
            reason: 'Waiting for legal review',
            timeout_seconds: 3600,
            on_timeout: 'cancel',
          },
        },
      },
    }),
    IfMatch(),
    Accepted(ACCEPTED_MESSAGES.pause),
    ApiTaskNotFound(),
    BadControlRequest({
      timeout: 'timeout_seconds must be an integer from 1 to 604800',
      on_timeout: 'on_timeout must be one of resume, cancel, fail',
      on_timeout_alone: ON_TIMEOUT_ALONE,
    }),
    ApiError(409, 'Failed precondition: the task is closed or already paused', {
      ...closedConflicts('pause'),
      cancelled: TaskStateConflictError.cancelled('pause').message,
      paused: TaskStateConflictError.alreadyPaused().message,
    }),
  );

export const ApiResumeTask = () =>
  stacked(
    ApiOperation({
      operationId: 'resumeTask',
      summary: 'Resume a previously paused task',
      description:
        'The task continues from the checkpoint where it stopped. A pause the task has not yet ' +
        'stopped for (`is_paused` true, no `workflow.paused` event yet) is withdrawn: the task ' +
        'goes on without stopping, and its events are `workflow.pausing` then ' +
        '`workflow.resumed` with `checkpoint: ""`, with no `workflow.paused` between them.',
    }),
    ApiTaskIdParam(),
    ControlBody(),
    IfMatch(),
    BadControlRequest(),
    Accepted(ACCEPTED_MESSAGES.resume),
    ApiTaskNotFound(),
    ApiError(409, 'Failed precondition: cannot resume task in invalid state', {
      ...closedConflicts('resume'),
      cancelled: TaskStateConflictError.cancelled('resume').message,
      not_paused: TaskStateConflictError.notPaused().message,
    }),
  );

export const ApiCancelTask = () =>
  stacked(
    ApiOperation({ operationId: 'cancelTask', summary: 'Cancel a task' }),
    ApiTaskIdParam(),
    ControlBody(),
    IfMatch(),
    BadControlRequest(),
    Accepted(ACCEPTED_MESSAGES.cancel),
    ApiTaskNotFound(),
    ApiResponse({
      status: 409,
      description: 'The task is already closed',
      type: TerminalStateResponseDto,
    }),
  );

export const ApiGetControlState = () =>
  stacked(
    ApiOperation({
      operationId: 'getTaskControlState',
      summary: "A task's pause and cancel state",
    }),
    ApiTaskIdParam(),
    ApiOkResponse({ type: ControlStateResponseDto, headers: ETAG_HEADER }),
    IfNoneMatch(),
    ApiTaskNotFound(),
  );

export const ApiListTaskActions = () =>
  stacked(
    ApiOperation({
      operationId: 'listTaskActions',
      summary: "A task's audit trail: every accepted action, oldest first",
      description:
        'Submit, pause, resume, cancel (also as part of a batch) and pause deadlines that ' +
        'passed, with who did it (principal and key name, `system` for deadlines), why, when, ' +
        "and the request and trace it came with. Read from the task's workflow history, where " +
        'each entry was written with the action itself: the cost of a page grows with the ' +
        'history up to its last action (a handful of pages of history for most tasks).',
    }),
    ApiTaskIdParam(),
    ApiOkResponse({ type: TaskActionsResponseDto }),
    ApiError(400, 'A bad query parameter', {
      invalid_id: 'Invalid task ID format',
      limit: 'Invalid limit parameter',
      offset: 'Invalid offset parameter',
    }),
    ApiTaskNotFound(),
  );
