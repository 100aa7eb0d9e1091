import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { TaskWorkflowGateway } from '../temporal/task-workflow.gateway';

const READINESS_TIMEOUT_MS = 2000;

@ApiTags('operations')
@Controller()
@Public()
export class HealthController {
  constructor(private readonly workflows: TaskWorkflowGateway) {}

  @Get('health')
  @ApiOperation({ operationId: 'health', summary: 'The process is running' })
  @ApiOkResponse({ schema: { example: { status: 'healthy' } } })
  health(): { status: string } {
    return { status: 'healthy' };
  }

  @Get('readiness')
  @ApiOperation({ operationId: 'readiness', summary: 'Temporal is reachable' })
  @ApiOkResponse({ schema: { example: { status: 'ready', checks: { temporal: 'ok' } } } })
  @ApiServiceUnavailableResponse({
    schema: { example: { status: 'not ready', checks: { temporal: 'failed' } } },
  })
  async readiness(@Res({ passthrough: true }) res: Response): Promise<object> {
    if (await this.workflows.isReachable(READINESS_TIMEOUT_MS)) {
      return { status: 'ready', checks: { temporal: 'ok' } };
    }
    res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'not ready', checks: { temporal: 'failed' } };
  }
}
