import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ControlRequestDto } from './dto/control-request.dto';
import { ListTasksQueryDto, ListTasksResponseDto } from './dto/list-tasks.dto';
import {
  SubmitTaskDto,
  SubmitTaskResponseDto,
  SubmitTaskStreamResponseDto,
} from './dto/submit-task.dto';
import {
  ControlAcceptedResponseDto,
  ControlStateResponseDto,
  ErrorResponseDto,
  TaskStatusResponseDto,
  TerminalStateResponseDto,
  toTaskStatusResponse,
} from './dto/task-responses.dto';
import { TaskIdPipe } from './task-id.pipe';
import { SubmittedTask, TasksService } from './tasks.service';

const TaskIdParam = () =>
  ApiParam({ name: 'id', description: 'Task ID (Temporal workflow ID)', example: 'task-123' });

@ApiTags('tasks')
@ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad input; the message names it' })
@Controller('api/v1/tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @HttpCode(200)
  @RequireScope('tasks:write')
  @ApiOperation({ operationId: 'submitTask', summary: 'Submit a task' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOkResponse({ type: SubmitTaskResponseDto })
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
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiCreatedResponse({ type: SubmitTaskStreamResponseDto })
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
  @ApiOperation({ operationId: 'listTasks', summary: "The caller's tasks, newest first" })
  @ApiOkResponse({ type: ListTasksResponseDto })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListTasksQueryDto,
  ): Promise<ListTasksResponseDto> {
    const { tasks, total } = await this.tasks.list(principal, {
      limit: query.limit ?? 20,
      offset: query.offset ?? 0,
      status: query.status,
      sessionId: query.session_id,
    });
    return {
      tasks: tasks.map((task) => ({
        task_id: task.taskId,
        query: task.query,
        status: task.status,
        mode: task.mode,
        created_at: task.createdAt.toISOString(),
        ...(task.closedAt && { completed_at: task.closedAt.toISOString() }),
      })),
      total_count: total,
    };
  }

  @Get(':id')
  @RequireScope('tasks:read')
  @ApiOperation({ operationId: 'getTask', summary: "A task's status and result" })
  @TaskIdParam()
  @ApiOkResponse({ type: TaskStatusResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async status(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TaskStatusResponseDto> {
    const task = await this.tasks.find(principal, id);
    res.setHeader('X-Workflow-ID', task.taskId);
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
  @TaskIdParam()
  @ApiAcceptedResponse({ type: ControlAcceptedResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'Closed or already paused' })
  async pause(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Body() body: ControlRequestDto,
  ): Promise<ControlAcceptedResponseDto> {
    await this.tasks.pause(principal, id, body.reason);
    return { success: true, message: 'Pause signal sent', task_id: id };
  }

  @Post(':id/resume')
  @HttpCode(202)
  @RequireScope('tasks:write')
  @ApiOperation({
    operationId: 'resumeTask',
    summary: 'Resume a previously paused task',
    description: 'The task continues from the checkpoint where it stopped.',
  })
  @TaskIdParam()
  @ApiAcceptedResponse({ type: ControlAcceptedResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'Closed or not paused' })
  async resume(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Body() body: ControlRequestDto,
  ): Promise<ControlAcceptedResponseDto> {
    await this.tasks.resume(principal, id, body.reason);
    return { success: true, message: 'Resume signal sent', task_id: id };
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @RequireScope('tasks:write')
  @ApiOperation({ operationId: 'cancelTask', summary: 'Cancel a task' })
  @TaskIdParam()
  @ApiAcceptedResponse({ type: ControlAcceptedResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ type: TerminalStateResponseDto, description: 'Already closed' })
  async cancel(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
    @Body() body: ControlRequestDto,
  ): Promise<ControlAcceptedResponseDto> {
    await this.tasks.cancel(principal, id, body.reason);
    return { success: true, message: 'Task cancelled successfully', task_id: id };
  }

  @Get(':id/control-state')
  @RequireScope('tasks:read')
  @ApiOperation({ operationId: 'getTaskControlState', summary: "A task's pause and cancel state" })
  @TaskIdParam()
  @ApiOkResponse({ type: ControlStateResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async controlState(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
  ): Promise<ControlStateResponseDto> {
    return (await this.tasks.find(principal, id)).control;
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
