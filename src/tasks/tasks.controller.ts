import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  applyDecorators,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiExtraModels,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ApiCommonErrors, ApiError } from '../common/api-responses';
import { ControlRequestDto, PauseRequestDto } from './dto/control-request.dto';
import { LIST_DEFAULT_LIMIT, ListTasksQueryDto, ListTasksResponseDto } from './dto/list-tasks.dto';
import {
  SubmitTaskDto,
  SubmitTaskResponseDto,
  SubmitTaskStreamResponseDto,
} from './dto/submit-task.dto';
import {
  ControlAcceptedResponseDto,
  ControlStateResponseDto,
  TaskChangedResponseDto,
  TaskStatusResponseDto,
  TerminalStateResponseDto,
  toTaskStatusResponse,
} from './dto/task-responses.dto';
import { TaskActionsResponseDto, ActionsQueryDto } from './dto/task-actions.dto';
import { InvalidInputError } from '../common/domain-error';
import { publicControlState } from '../workflows/contract';
import { effectiveControl } from './task-history';
import { parseIfMatch, taskEtag } from './task-etag';
import { ApiTaskIdParam, TaskIdPipe } from './task-id.pipe';
import { TaskListService } from './task-list.service';
import { ControlOutcome, SubmittedTask, TasksService } from './tasks.service';

const TaskNotFound = () =>
  ApiError(404, 'No such task for this tenant', { not_found: 'Task not found' });

/** The optional `{"reason"}` body of pause, resume and cancel, with the seed page's example. */
const ControlBody = () =>
  ApiBody({
    type: ControlRequestDto,
    required: false,
    examples: { reason: { value: { reason: 'User approved continuation' } } },
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

/** Answers an accepted action with the ETag of the state it leads to. */
function accepted(
  res: Response,
  outcome: ControlOutcome,
  message: string,
  taskId: string,
): ControlAcceptedResponseDto {
  res.setHeader('ETag', outcome.etag);
  return { success: true, message, task_id: taskId };
}

const SUBMITTED_HEADERS = {
  'X-Workflow-ID': { description: 'The task ID', schema: { type: 'string' } },
  'X-Session-ID': { description: 'The session ID, given or generated', schema: { type: 'string' } },
};

const IdempotencyKeyHeader = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$', maxLength: 255 },
    description:
      'The same key with the same body within 24 h gives the same task, never a second one',
  });

@ApiTags('tasks')
@ApiCommonErrors()
@Controller('api/v1/tasks')
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly taskList: TaskListService,
  ) {}

  @Post()
  @HttpCode(200)
  @RequireScope('tasks:write')
  @ApiOperation({ operationId: 'submitTask', summary: 'Submit a task' })
  @IdempotencyKeyHeader()
  @ApiOkResponse({ type: SubmitTaskResponseDto, headers: SUBMITTED_HEADERS })
  @ApiError(400, 'Bad input; the message names the problem', {
    query_required: 'Query is required',
    malformed: 'Invalid request body: Unexpected end of JSON input',
    too_deep: 'Invalid request body: nested more than 64 levels deep',
  })
  @ApiError(422, 'The Idempotency-Key was used with another body', {
    idempotency: 'Idempotency-Key was already used with a different request',
  })
  async submit(
    @CurrentPrincipal() principal: Principal,
    @Body() body: SubmitTaskDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmitTaskResponseDto> {
    const task = await this.submitted(principal, body, idempotencyKey, res);
    return {
      task_id: task.taskId,
      status: 'TASK_STATUS_QUEUED',
      message: 'Task submitted successfully',
      created_at: task.createdAt.toISOString(),
    };
  }

  @Post('stream')
  @HttpCode(201)
  @RequireScope('tasks:write')
  @ApiOperation({
    operationId: 'submitTaskAndStream',
    summary: 'Submit a task and get the URL of its event stream',
    description: 'A client that connects to `stream_url` afterwards still receives every event.',
  })
  @IdempotencyKeyHeader()
  @ApiCreatedResponse({
    type: SubmitTaskStreamResponseDto,
    headers: {
      ...SUBMITTED_HEADERS,
      Link: { description: '`<stream_url>; rel=stream`', schema: { type: 'string' } },
    },
  })
  @ApiError(422, 'The Idempotency-Key was used with another body', {
    idempotency: 'Idempotency-Key was already used with a different request',
  })
  async submitAndStream(
    @CurrentPrincipal() principal: Principal,
    @Body() body: SubmitTaskDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmitTaskStreamResponseDto> {
    const task = await this.submitted(principal, body, idempotencyKey, res);
    const streamUrl = `/api/v1/stream/sse?workflow_id=${encodeURIComponent(task.taskId)}`;
    res.setHeader('Link', `<${streamUrl}>; rel=stream`);
    return { task_id: task.taskId, workflow_id: task.taskId, stream_url: streamUrl };
  }

  @Get()
  @RequireScope('tasks:read')
  @ApiOperation({
    operationId: 'listTasks',
    summary: "The caller's tasks, newest first",
    description:
      'Newest first by `created_at`, ties by `task_id`. Page with `limit` and `offset`, or walk ' +
      'with `cursor` (each page costs the same however deep it is; `offset` reads every task ' +
      "before it). The list is read from Temporal's visibility store, which trails writes: a " +
      'task appears in it, and a status filter matches a change, a fraction of a second after ' +
      'the answer that made it (see the README); GET /api/v1/tasks/{id} is exact at once.',
  })
  @ApiOkResponse({ type: ListTasksResponseDto })
  @ApiError(400, 'A bad query parameter', {
    limit: 'Invalid limit parameter',
    offset: 'Invalid offset parameter',
    status: 'Invalid status value',
    session: 'Invalid session_id format',
    cursor: 'Invalid cursor parameter',
  })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListTasksQueryDto,
  ): Promise<ListTasksResponseDto> {
    const page = await this.taskList.list(principal, {
      status: query.status,
      sessionId: query.session_id,
      limit: query.limit ?? LIST_DEFAULT_LIMIT,
      offset: query.offset ?? 0,
      cursor: query.cursor,
    });
    return {
      tasks: page.tasks.map((task) => ({
        task_id: task.taskId,
        query: task.query,
        status: task.status,
        mode: task.mode,
        created_at: task.createdAt.toISOString(),
        ...(task.closedAt && { completed_at: task.closedAt.toISOString() }),
      })),
      total_count: page.totalCount,
      next_cursor: page.nextCursor ?? null,
    };
  }

  @Get(':id')
  @RequireScope('tasks:read')
  @ApiOperation({ operationId: 'getTask', summary: "A task's status and result" })
  @ApiTaskIdParam()
  @ApiOkResponse({
    type: TaskStatusResponseDto,
    headers: { 'X-Workflow-ID': SUBMITTED_HEADERS['X-Workflow-ID'], ...ETAG_HEADER },
  })
  @IfNoneMatch()
  @TaskNotFound()
  async status(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TaskStatusResponseDto> {
    const task = await this.tasks.get(principal, id);
    res.setHeader('X-Workflow-ID', task.taskId);
    res.setHeader('ETag', taskEtag(task));
    return toTaskStatusResponse(task);
  }

  @Post(':id/pause')
  @HttpCode(202)
  @RequireScope('tasks:write')
  @ApiOperation({
    operationId: 'pauseTask',
    summary: 'Pause a task at its next checkpoint',
    description: 'An activity already running finishes first.',
  })
  @ApiTaskIdParam()
  @ApiExtraModels(PauseRequestDto)
  @ApiBody({
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
        value: { reason: 'Waiting for legal review', timeout_seconds: 3600, on_timeout: 'cancel' },
      },
    },
  })
  @IfMatch()
  @Accepted('Pause signal sent')
  @TaskNotFound()
  @BadControlRequest({
    timeout: 'timeout_seconds must be an integer from 1 to 604800',
    on_timeout: 'on_timeout must be one of resume, cancel, fail',
    on_timeout_alone: 'on_timeout needs timeout_seconds',
  })
  @ApiError(409, 'Failed precondition: the task is closed or already paused', {
    completed: 'cannot pause completed task',
    failed: 'cannot pause failed task',
    cancelled: 'cannot pause cancelled task',
    timed_out: 'cannot pause timed out task',
    paused: 'task is already paused',
  })
  async pause(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Body() body: PauseRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ControlAcceptedResponseDto> {
    if (body.on_timeout !== undefined && body.timeout_seconds === undefined) {
      throw new InvalidInputError('on_timeout needs timeout_seconds');
    }
    const outcome = await this.tasks.pause(principal, id, {
      reason: body.reason,
      timeoutSeconds: body.timeout_seconds,
      onTimeout: body.on_timeout,
      ifMatch: parseIfMatch(ifMatch),
    });
    return accepted(res, outcome, 'Pause signal sent', id);
  }

  @Post(':id/resume')
  @HttpCode(202)
  @RequireScope('tasks:write')
  @ApiOperation({
    operationId: 'resumeTask',
    summary: 'Resume a previously paused task',
    description: 'The task continues from the checkpoint where it stopped.',
  })
  @ApiTaskIdParam()
  @ControlBody()
  @IfMatch()
  @BadControlRequest()
  @Accepted('Resume signal sent')
  @TaskNotFound()
  @ApiError(409, 'Failed precondition: cannot resume task in invalid state', {
    completed: 'cannot resume completed task',
    failed: 'cannot resume failed task',
    cancelled: 'cannot resume cancelled task',
    timed_out: 'cannot resume timed out task',
    not_paused: 'task is not paused',
  })
  async resume(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Body() body: ControlRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ControlAcceptedResponseDto> {
    const outcome = await this.tasks.resume(principal, id, {
      reason: body.reason,
      ifMatch: parseIfMatch(ifMatch),
    });
    return accepted(res, outcome, 'Resume signal sent', id);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @RequireScope('tasks:write')
  @ApiOperation({ operationId: 'cancelTask', summary: 'Cancel a task' })
  @ApiTaskIdParam()
  @ControlBody()
  @IfMatch()
  @BadControlRequest()
  @Accepted('Task cancelled successfully')
  @TaskNotFound()
  @ApiResponse({
    status: 409,
    description: 'The task is already closed',
    type: TerminalStateResponseDto,
  })
  async cancel(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Body() body: ControlRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ControlAcceptedResponseDto> {
    const outcome = await this.tasks.cancel(principal, id, {
      reason: body.reason,
      ifMatch: parseIfMatch(ifMatch),
    });
    return accepted(res, outcome, 'Task cancelled successfully', id);
  }

  @Get(':id/control-state')
  @RequireScope('tasks:read')
  @ApiOperation({ operationId: 'getTaskControlState', summary: "A task's pause and cancel state" })
  @ApiTaskIdParam()
  @ApiOkResponse({ type: ControlStateResponseDto, headers: ETAG_HEADER })
  @IfNoneMatch()
  @TaskNotFound()
  async controlState(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ControlStateResponseDto> {
    const task = await this.tasks.get(principal, id);
    res.setHeader('ETag', taskEtag(task));
    return publicControlState(effectiveControl(task));
  }

  @Get(':id/actions')
  @RequireScope('tasks:read')
  @ApiOperation({
    operationId: 'listTaskActions',
    summary: "A task's audit trail: every accepted action, oldest first",
    description:
      'Submit, pause, resume, cancel (also as part of a batch) and pause deadlines that ' +
      'passed, with who did it (principal and key name, `system` for deadlines), why, when, ' +
      "and the request and trace it came with. Read from the task's workflow history, where " +
      'each entry was written with the action itself: the cost of a page grows with the ' +
      'history up to its last action (a handful of pages of history for most tasks).',
  })
  @ApiTaskIdParam()
  @ApiOkResponse({ type: TaskActionsResponseDto })
  @ApiError(400, 'A bad query parameter', {
    invalid_id: 'Invalid task ID format',
    limit: 'Invalid limit parameter',
    offset: 'Invalid offset parameter',
  })
  @TaskNotFound()
  async actions(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Query() query: ActionsQueryDto,
  ): Promise<TaskActionsResponseDto> {
    const { offset, limit } = query.window();
    const actions = await this.tasks.actions(principal, id, offset, limit);
    return { actions, count: actions.length };
  }

  /** Submits and sets the headers both submit routes answer with. */
  private async submitted(
    principal: Principal,
    body: SubmitTaskDto,
    idempotencyKey: string | undefined,
    res: Response,
  ): Promise<SubmittedTask> {
    const task = await this.tasks.submit(principal, body, idempotencyKey);
    res.setHeader('X-Workflow-ID', task.taskId);
    res.setHeader('X-Session-ID', task.sessionId);
    return task;
  }
}
