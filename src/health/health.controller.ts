import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { ApiError } from '../common/api-responses';
import { TemporalReadiness } from '../temporal/temporal-readiness';

const READINESS_TIMEOUT_MS = 2000;

const CHECK = { type: 'string', enum: ['ok', 'failed', 'missing'] };
const READINESS_SCHEMA = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not ready'] },
    checks: {
      type: 'object',
      required: ['temporal'],
      properties: { temporal: CHECK, namespace: CHECK, search_attributes: CHECK },
    },
    message: { type: 'string', description: 'What is missing, naming the set-up command' },
  },
};

/** What the HTTP server answers for any route, before the app sees the request. */
const HeadersTooLarge = () =>
  ApiError(431, 'Request headers over 16 KiB (the connection is closed)', {
    too_large: 'Request headers too large',
  });

@ApiTags('operations')
@Controller()
@Public()
export class HealthController {
  constructor(private readonly temporal: TemporalReadiness) {}

  @Get('health')
  @ApiOperation({ operationId: 'health', summary: 'The process is running' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['healthy'] } },
      example: { status: 'healthy' },
    },
  })
  @HeadersTooLarge()
  health(): { status: string } {
    return { status: 'healthy' };
  }

  @Get('readiness')
  @ApiOperation({
    operationId: 'readiness',
    summary: 'Temporal is reachable and set up for tasks',
    description:
      'Not ready while Temporal cannot be reached (`temporal: failed`), or while it answers but ' +
      'the namespace or the task search attributes are missing (`namespace` or ' +
      '`search_attributes: missing`, with a `message` naming the set-up command).',
  })
  @ApiOkResponse({
    schema: { ...READINESS_SCHEMA, example: { status: 'ready', checks: { temporal: 'ok' } } },
  })
  @ApiServiceUnavailableResponse({
    schema: {
      ...READINESS_SCHEMA,
      example: { status: 'not ready', checks: { temporal: 'failed' } },
    },
  })
  @HeadersTooLarge()
  async readiness(@Res({ passthrough: true }) res: Response): Promise<object> {
    const report = await this.temporal.check(READINESS_TIMEOUT_MS);
    if (report.ready) return { status: 'ready', checks: { temporal: 'ok' } };
    res.status(HttpStatus.SERVICE_UNAVAILABLE);
    if (!report.reachable) return { status: 'not ready', checks: { temporal: 'failed' } };
    const checks =
      report.missing.missing === 'namespace'
        ? { temporal: 'ok', namespace: 'missing' }
        : { temporal: 'ok', namespace: 'ok', search_attributes: 'missing' };
    return { status: 'not ready', checks, message: report.missing.message };
  }
}
