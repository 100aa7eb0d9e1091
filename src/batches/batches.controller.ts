import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ApiCommonErrors, ApiError } from '../common/api-responses';
import { InvalidInputError } from '../common/domain-error';
import { BatchFilter } from './batch-filter';
import { ApiBatchIdParam, BatchIdPipe } from './batch-id.pipe';
import { BatchesService, MAX_BATCH_TASKS } from './batches.service';
import {
  BatchAcceptedResponseDto,
  BatchDryRunResponseDto,
  BatchFilterDto,
  BatchRequestDto,
  FILTER_FIELDS,
  BatchStatusResponseDto,
} from './dto/batch.dto';

const FILTER_NEEDED = `filter needs at least one of ${FILTER_FIELDS.join(', ')}`;

/** A time the format allows but a Date cannot hold (a leap second, 24:00) is refused too. */
function toTime(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) {
    throw new InvalidInputError(`${field} must be an RFC 3339 date-time`);
  }
  return time;
}

function toFilter(dto: BatchFilterDto): BatchFilter {
  const filter: BatchFilter = {
    status: dto.status,
    sessionId: dto.session_id,
    createdAfter: toTime(dto.created_after, 'created_after'),
    createdBefore: toTime(dto.created_before, 'created_before'),
    taskIds: dto.task_ids,
  };
  if (Object.values(filter).every((value) => value === undefined)) {
    throw new InvalidInputError(FILTER_NEEDED);
  }
  return filter;
}

@ApiTags('batches')
@ApiCommonErrors()
@Controller('api/v1')
export class BatchesController {
  constructor(private readonly batches: BatchesService) {}

  @Post('tasks/batch')
  @HttpCode(202)
  @RequireScope('tasks:write')
  @ApiOperation({
    operationId: 'startBatch',
    summary: "Pause, resume or cancel the caller's tasks that match a filter",
    description:
      'The matching tasks are fixed when the batch is accepted (at most ' +
      `${MAX_BATCH_TASKS.toLocaleString('en')}); a Temporal workflow run by the workers then ` +
      'applies the action to each by the same rules as the single-task routes, so an API ' +
      'restart does not stop it. A task the action does not apply to (resume of a task not ' +
      'paused, anything on a closed task) is skipped. `status` is matched as the list matches ' +
      'it (recorded by each task as it runs); each task is checked exactly when it is acted ' +
      'on. `dry_run` only counts.',
  })
  @ApiBody({
    type: BatchRequestDto,
    examples: {
      pause_session: {
        summary: 'Pause every running task of a session',
        value: {
          action: 'pause',
          filter: { session_id: 'nightly-reports', status: 'running' },
          reason: 'Maintenance window',
        },
      },
      count: {
        summary: 'How many tasks would a cancel touch?',
        value: {
          action: 'cancel',
          filter: { created_before: '2026-01-01T00:00:00Z' },
          dry_run: true,
        },
      },
    },
  })
  @ApiOkResponse({ type: BatchDryRunResponseDto, description: '`dry_run`: nothing was sent' })
  @ApiAcceptedResponse({
    type: BatchAcceptedResponseDto,
    description: 'The batch runs; follow it at the `Location` given',
    headers: {
      Location: { description: '`/api/v1/batches/<batch_id>`', schema: { type: 'string' } },
    },
  })
  @ApiError(400, 'Bad input; the message names the problem', {
    action: 'action must be one of pause, resume, cancel',
    filter: 'filter is required',
    empty_filter: FILTER_NEEDED,
    status: 'Invalid status value',
    created_after: 'created_after must be an RFC 3339 date-time',
    task_ids: 'task_ids must hold 1 to 1000 task IDs',
    too_many: `The filter matches more than ${MAX_BATCH_TASKS} tasks, the most one batch acts on: narrow it`,
  })
  async start(
    @CurrentPrincipal() principal: Principal,
    @Body() body: BatchRequestDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<BatchDryRunResponseDto | BatchAcceptedResponseDto> {
    const filter = toFilter(body.filter);
    if (body.dry_run) {
      res.status(200);
      return { matched: await this.batches.matching(principal, filter) };
    }
    const { batchId, matched } = await this.batches.start(principal, {
      action: body.action,
      filter,
      reason: body.reason ?? '',
    });
    res.setHeader('Location', `/api/v1/batches/${batchId}`);
    return { batch_id: batchId, action: body.action, matched, state: 'running' };
  }

  @Get('batches/:id')
  @RequireScope('tasks:read')
  @ApiOperation({
    operationId: 'getBatch',
    summary: 'How a batch stands',
    description:
      'Once the batch is completed, `succeeded + skipped + failed = matched`. One Temporal ' +
      'call, whatever the size of the batch.',
  })
  @ApiBatchIdParam()
  @ApiOkResponse({ type: BatchStatusResponseDto })
  @ApiError(400, 'A bad batch ID', { invalid_id: 'Invalid batch ID format' })
  @ApiError(404, 'No such batch for this tenant', { not_found: 'Batch not found' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', BatchIdPipe) id: string,
  ): Promise<BatchStatusResponseDto> {
    const batch = await this.batches.get(principal, id);
    return {
      batch_id: batch.batchId,
      action: batch.action,
      state: batch.state,
      matched: batch.matched,
      succeeded: batch.succeeded,
      skipped: batch.skipped,
      failed: batch.failed,
      started_at: batch.startedAt.toISOString(),
      closed_at: batch.closedAt?.toISOString() ?? '',
    };
  }
}
