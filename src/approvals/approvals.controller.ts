import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ApiCommonErrors, ApiError } from '../common/api-responses';
import { ApiTaskIdParam, TaskIdPipe } from '../tasks/task-id.pipe';
import { ApprovalsService } from './approvals.service';
import {
  ApprovalDecisionDto,
  ApprovalDecisionResponseDto,
  ApprovalListResponseDto,
} from './dto/approval.dto';

@ApiTags('approvals')
@ApiCommonErrors()
@Controller('api/v1')
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @Post('approvals/decision')
  @HttpCode(200)
  @RequireScope('tasks:write')
  @ApiOperation({
    operationId: 'decideApproval',
    summary: 'Approve or reject what a task waits for (Shannon-compatible)',
    description:
      'Approved: the task goes on (after a resume too, when it is also paused). Rejected: ' +
      'it ends CANCELLED with `cancel_reason` `approval rejected: <feedback>`.',
  })
  @ApiBody({
    type: ApprovalDecisionDto,
    examples: {
      approve: {
        value: {
          workflow_id: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4',
          approval_id: 'apr_task_01J8Z6W3V4N6Q2R8S0T1U2V3W4_pre_synthesis',
          approved: true,
          feedback: 'Looks good',
        },
      },
      reject: {
        value: {
          workflow_id: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4',
          approval_id: 'apr_task_01J8Z6W3V4N6Q2R8S0T1U2V3W4_pre_synthesis',
          approved: false,
          feedback: 'Wrong quarter',
        },
      },
    },
  })
  @ApiOkResponse({
    type: ApprovalDecisionResponseDto,
    example: {
      status: 'sent',
      success: true,
      message: 'Approval decision sent',
      workflow_id: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4',
      run_id: '0195a3c1-7f4e-7b1a-9c2d-3e4f5a6b7c8d',
      approval_id: 'apr_task_01J8Z6W3V4N6Q2R8S0T1U2V3W4_pre_synthesis',
    },
  })
  @ApiError(400, 'A missing or malformed field', {
    workflow_id: 'workflow_id is required',
    approval_id: 'approval_id is required',
    approved: 'approved must be a boolean',
  })
  @ApiError(404, 'No such task for this tenant, or no such approval on it', {
    task: 'Task not found',
    approval: 'Approval not found',
  })
  @ApiError(409, 'The approval was decided already, or the task no longer waits for it', {
    decided: 'approval already decided',
    not_waiting: 'task is no longer waiting for this approval',
  })
  async decide(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ApprovalDecisionDto,
  ): Promise<ApprovalDecisionResponseDto> {
    const { runId } = await this.approvals.decide(principal, {
      taskId: body.workflow_id,
      approvalId: body.approval_id,
      approved: body.approved,
      feedback: body.feedback,
    });
    return {
      status: 'sent',
      success: true,
      message: 'Approval decision sent',
      workflow_id: body.workflow_id,
      run_id: runId,
      approval_id: body.approval_id,
    };
  }

  @Get('tasks/:id/approvals')
  @RequireScope('tasks:read')
  @ApiOperation({ operationId: 'listTaskApprovals', summary: "A task's approvals, oldest first" })
  @ApiTaskIdParam()
  @ApiOkResponse({ type: ApprovalListResponseDto })
  @ApiError(404, 'No such task for this tenant', { not_found: 'Task not found' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) id: string,
  ): Promise<ApprovalListResponseDto> {
    return { approvals: await this.approvals.list(principal, id) };
  }
}
