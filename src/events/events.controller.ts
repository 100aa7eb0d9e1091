import {
  BeforeApplicationShutdown,
  Controller,
  Get,
  Headers,
  Param,
  Query,
  Req,
  Res,
  applyDecorators,
} from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import { KeyStore } from '../auth/key-store';
import type { Principal } from '../auth/principal';
import { InvalidInputError } from '../common/domain-error';
import { ApiCommonErrors, ApiError } from '../common/api-responses';
import { STREAM_EVENT_TYPES } from '../tasks/task-event';
import { ApiTaskIdParam, TaskIdPipe } from '../tasks/task-id.pipe';
import { ApiTaskNotFound } from '../tasks/tasks.api-docs';
import { TasksService } from '../tasks/tasks.service';
import {
  EventsQueryDto,
  LAST_EVENT_ID_PATTERN,
  SseQueryDto,
  StreamQueryDto,
} from './dto/event-queries.dto';
import { TaskEventsResponseDto } from './dto/task-events-response.dto';
import { streamEvents } from './sse-stream';
import { TaskEventFeeds } from './task-event-feeds';

const KNOWN_TYPES: ReadonlySet<string> = new Set(STREAM_EVENT_TYPES);

function parseTypes(types: string | undefined): ReadonlySet<string> | undefined {
  if (types === undefined) return undefined;
  const names = types.split(',').map((t) => t.trim());
  const unknown = names.find((name) => !KNOWN_TYPES.has(name));
  if (unknown !== undefined) {
    throw new InvalidInputError(`Invalid types parameter: unknown event type "${unknown}"`);
  }
  return new Set(names);
}

/** Empty means none, as browsers send it before the first event. */
function parseLastEventId(header: string | undefined, query: string | undefined): number {
  const value = header || query;
  if (!value) return 0;
  if (!LAST_EVENT_ID_PATTERN.test(value)) {
    throw new InvalidInputError('Invalid last_event_id parameter');
  }
  return Number(value);
}

const STREAM_DESCRIPTION =
  'Server-Sent Events: `id: <n>`, `event: <name>`, `data: <JSON>`. Events after the last event ' +
  'id, then live ones, then `event: done` / `data: [DONE]` once the task is closed. ' +
  'A `: ping` comment at least every 15 s. While a step of a model-backed task streams, ' +
  '`LLM_PARTIAL` (`step`, `delta`: the text added) and, when the step ends, `LLM_OUTPUT` ' +
  '(`step`, `output`) go to the streams open at the time: they have no `id:` line and are ' +
  'never replayed.';

const StreamDocs = () =>
  applyDecorators(
    ApiProduces('text/event-stream'),
    ApiHeader({
      name: 'Last-Event-ID',
      required: false,
      description: 'Resume after this id (wins over `last_event_id`)',
      schema: { type: 'string', pattern: LAST_EVENT_ID_PATTERN.source },
    }),
    ApiOkResponse({
      description: STREAM_DESCRIPTION,
      content: {
        'text/event-stream': {
          // Schema of one event, as an SSE client parses it.
          schema: {
            type: 'object',
            required: ['event', 'data'],
            properties: {
              id: {
                type: 'string',
                pattern: '^[1-9][0-9]*$',
                description: 'Absent on live events (LLM_PARTIAL, LLM_OUTPUT)',
              },
              event: { type: 'string', enum: [...STREAM_EVENT_TYPES, 'done'] },
              data: { type: 'string', description: 'One-line JSON event object, or [DONE]' },
            },
          },
          example:
            'id: 1\nevent: WORKFLOW_STARTED\ndata: {"workflow_id":"task-123","type":"WORKFLOW_STARTED","message":"Task started","timestamp":"2026-01-01T00:00:00.000Z","seq":1}\n\n',
        },
      },
    }),
    ApiTaskNotFound(),
    ApiError(400, 'A bad parameter, before any stream byte', {
      types: 'Invalid types parameter: unknown event type "x"',
      last_event_id: 'Invalid last_event_id parameter',
      workflow_id: 'workflow_id is required',
    }),
  );

@ApiTags('events')
@ApiCommonErrors()
@Controller('api/v1')
export class EventsController implements BeforeApplicationShutdown {
  /** Open streams, ended when the server shuts down so clients reconnect elsewhere. */
  private readonly open = new Set<AbortController>();

  constructor(
    private readonly tasks: TasksService,
    private readonly feeds: TaskEventFeeds,
    private readonly keys: KeyStore,
  ) {}

  @Get('stream/sse')
  @RequireScope('tasks:read', { allowQueryKey: true })
  @ApiOperation({ operationId: 'streamEvents', summary: "Stream a task's events (SSE)" })
  @StreamDocs()
  async sse(
    @CurrentPrincipal() principal: Principal,
    @Query() query: SseQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (query.workflow_id === undefined) throw new InvalidInputError('workflow_id is required');
    const taskId = new TaskIdPipe().transform(query.workflow_id);
    await this.stream(principal, taskId, query, lastEventId, req, res);
  }

  @Get('tasks/:id/stream')
  @RequireScope('tasks:read', { allowQueryKey: true })
  @ApiOperation({ operationId: 'streamTaskEvents', summary: "Stream a task's events (SSE)" })
  @ApiTaskIdParam()
  @StreamDocs()
  async taskStream(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) taskId: string,
    @Query() query: StreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.stream(principal, taskId, query, lastEventId, req, res);
  }

  @Get('tasks/:id/events')
  @RequireScope('tasks:read')
  @ApiOperation({ operationId: 'listTaskEvents', summary: "A task's event history, oldest first" })
  @ApiTaskIdParam()
  @ApiOkResponse({ type: TaskEventsResponseDto })
  @ApiTaskNotFound()
  @ApiError(400, 'A bad query parameter', {
    limit: 'Invalid limit parameter',
    offset: 'Invalid offset parameter',
  })
  async events(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TaskIdPipe) taskId: string,
    @Query() query: EventsQueryDto,
  ): Promise<TaskEventsResponseDto> {
    const { offset, limit } = query.window();
    const events = await this.tasks.events(principal, taskId, offset, limit);
    return { events, count: events.length };
  }

  beforeApplicationShutdown(): void {
    for (const stream of this.open) stream.abort();
  }

  private async stream(
    principal: Principal,
    taskId: string,
    query: StreamQueryDto,
    lastEventId: string | undefined,
    req: Request,
    res: Response,
  ): Promise<void> {
    // Everything that can fail as JSON fails before the first stream byte.
    const types = parseTypes(query.types);
    const after = parseLastEventId(lastEventId, query.last_event_id);
    const task = await this.tasks.get(principal, taskId);

    const abort = new AbortController();
    this.open.add(abort);
    req.on('close', () => abort.abort());
    try {
      await streamEvents(res, this.feeds.follow(task, after), {
        after,
        types,
        signal: abort.signal,
        refusal: () => (this.keys.stillValid(principal) ? undefined : 'Unauthorized'),
      });
    } finally {
      this.open.delete(abort);
    }
  }
}
