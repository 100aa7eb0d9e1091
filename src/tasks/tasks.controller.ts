import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ApiCommonErrors } from '../common/api-responses';
import { InvalidInputError } from '../common/domain-error';
import { publicControlState } from '../workflows/contract';
import { ControlRequestDto, PauseRequestDto } from './dto/control-request.dto';
import {
  LIST_DEFAULT_LIMIT,
  ListTasksQueryDto,
  ListTasksResponseDto,
  toListTasksResponse,
} from './dto/list-tasks.dto';
import {
  SubmitTaskDto,
  SubmitTaskResponseDto,
  SubmitTaskStreamResponseDto,
} from './dto/submit-task.dto';
import { TaskActionsResponseDto, ActionsQueryDto } from './dto/task-actions.dto';
import {
  ControlAcceptedResponseDto,
  ControlStateResponseDto,
  TaskStatusResponseDto,
  toTaskStatusResponse,
} from './dto/task-responses.dto';
import { idempotencyKeyOf } from './idempotency-key';
import { SubmitTaskPipe } from './submit-task.pipe';
import {
  ACCEPTED_MESSAGES,
  ApiCancelTask,
  ApiGetControlState,
  ApiGetTask,
  ApiListTaskActions,
  ApiListTasks,
  ApiPauseTask,
  ApiResumeTask,
  ApiSubmitTask,
  ApiSubmitTaskAndStream,
  ON_TIMEOUT_ALONE,
  SUBMITTED_MESSAGE,
} from './tasks.api-docs';
import { effectiveControl } from './task-history';
import { parseIfMatch, taskEtag } from './task-etag';
import { TaskIdPipe } from './task-id.pipe';
import { TaskListService } from './task-list.service';
import { ControlOutcome, SubmittedTask, TasksService } from './tasks.service';
import { WebhookFailures } from './webhook-failures';

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

@ApiTags('tasks')
@ApiCommonErrors()
@Controller('api/v1/tasks')
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly taskList: TaskListService,
    private readonly webhookFailures: WebhookFailures,
  ) {}

  @Post()
  @HttpCode(200)
  @RequireScope('tasks:write')
  @ApiSubmitTask()
  async submit(
    @CurrentPrincipal() principal: Principal,
    @Body(SubmitTaskPipe) body: SubmitTaskDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmitTaskResponseDto> {
    const task = await this.submitted(principal, body, idempotencyKey, res);
    return {
      task_id: task.taskId,
      status: 'TASK_STATUS_QUEUED',
      message: SUBMITTED_MESSAGE,
      created_at: task.createdAt.toISOString(),
    };
  }

  @Post('stream')
  @HttpCode(201)
  @RequireScope('tasks:write')
  @ApiSubmitTaskAndStream()
  async submitAndStream(
    @CurrentPrincipal() principal: Principal,
    @Body(SubmitTaskPipe) body: SubmitTaskDto,
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
  @ApiListTasks()
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
    return toListTasksResponse(page);
  }

  @Get(':id')
  @RequireScope('tasks:read')
  @ApiGetTask()
  async status(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TaskStatusResponseDto> {
    const task = await this.tasks.get(principal, id);
    const webhookFailures = task.webhook ? await this.webhookFailures.of(id) : undefined;
    res.setHeader('X-Workflow-ID', task.taskId);
    res.setHeader('ETag', taskEtag(task));
    return toTaskStatusResponse(task, webhookFailures);
  }

  @Post(':id/pause')
  @HttpCode(202)
  @RequireScope('tasks:write')
  @ApiPauseTask()
  async pause(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Body() body: PauseRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ControlAcceptedResponseDto> {
    if (body.on_timeout !== undefined && body.timeout_seconds === undefined) {
      throw new InvalidInputError(ON_TIMEOUT_ALONE);
    }
    const outcome = await this.tasks.pause(principal, id, {
      reason: body.reason,
      timeoutSeconds: body.timeout_seconds,
      onTimeout: body.on_timeout,
      ifMatch: parseIfMatch(ifMatch),
    });
    return accepted(res, outcome, ACCEPTED_MESSAGES.pause, id);
  }

  @Post(':id/resume')
  @HttpCode(202)
  @RequireScope('tasks:write')
  @ApiResumeTask()
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
    return accepted(res, outcome, ACCEPTED_MESSAGES.resume, id);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @RequireScope('tasks:write')
  @ApiCancelTask()
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
    return accepted(res, outcome, ACCEPTED_MESSAGES.cancel, id);
  }

  @Get(':id/control-state')
  @RequireScope('tasks:read')
  @ApiGetControlState()
  async controlState(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ControlStateResponseDto> {
    const task = await this.tasks.get(principal, id);
    res.setHeader('ETag', taskEtag(task));
    return {
      ...publicControlState(effectiveControl(task)),
      // Only tasks with approval gates have it, so other tasks' answers stay as they were.
      ...(task.approvals && { pending_approval: task.approvals.pending }),
    };
  }

  @Get(':id/actions')
  @RequireScope('tasks:read')
  @ApiListTaskActions()
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
    const task = await this.tasks.submit(principal, body, idempotencyKeyOf(idempotencyKey));
    res.setHeader('X-Workflow-ID', task.taskId);
    res.setHeader('X-Session-ID', task.sessionId);
    return task;
  }
}
