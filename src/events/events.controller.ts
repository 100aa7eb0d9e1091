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
import { LIVE_EVENT_TYPES, STREAM_EVENT_TYPES, TASK_EVENT_TYPES } from '../tasks/task-event';
import { ApiTaskIdParam, TaskIdPipe } from '../tasks/task-id.pipe';
import { ApiTaskNotFound } from '../tasks/tasks.api-docs';
import { TasksService } from '../tasks/tasks.service';
import {
  EventsQueryDto,
  LAST_EVENT_ID_PATTERN,
  SseQueryDto,
  StreamQueryDto,
} from './dto/event-queries.dto';
import { PAUSE_EVENTS_DESCRIPTION, TaskEventsResponseDto } from './dto/task-events-response.dto';
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

const STREAM_DESCRIPTION = [
  'Server-Sent Events (the WHATWG format): one event is an optional `id:` line, an `event:` ' +
    'line and one `data:` line, then a blank line. The stream sends the events after the last ' +
    'event id, then live ones as they happen, then `event: done` / `data: [DONE]` once the ' +
    'task is closed, and ends. A `: ping` comment comes at least every 15 s. The schema and ' +
    'examples below describe one event, as an SSE client parses it.',
  '',
  `- Task events: ${TASK_EVENT_TYPES.map((t) => `\`${t}\``).join(', ')}. \`data\` is the ` +
    'same JSON object as in `GET /api/v1/tasks/{id}/events` (`workflow_id`, `type`, `message`, ' +
    '`timestamp`, `seq`, plus fields by type); `id` is its `seq`.',
  `- ${PAUSE_EVENTS_DESCRIPTION}`,
  `- Live events: ${LIVE_EVENT_TYPES.map((t) => `\`${t}\``).join(', ')} while a step of a ` +
    'model-backed task streams (`step`, and `delta`, the text added, or `output`, the whole ' +
    'text of the step). They have no `id:` line, go only to the streams open at the time and ' +
    'are never replayed.',
  '- `event: error` with `data: {"error": "Task not found"}` (or `"Unauthorized"` once the ' +
    'key is revoked) ends a stream that cannot go on.',
  '',
  "`id` is the event's position in the task: it increases along the stream (with gaps: not " +
    'every step of the task is an event). A stream that drops can be resumed with no event lost ' +
    'or repeated: reconnect with the last `id` received as `Last-Event-ID` (or ' +
    '`last_event_id`), as EventSource does by itself.',
].join('\n');

/** One example per kind of event, as an SSE client parses it off the wire. */
const STREAM_EXAMPLES = {
  task_event: {
    summary: 'A task event, with its id (its seq)',
    value: {
      id: '17',
      event: 'workflow.paused',
      data: '{"workflow_id":"task-123","type":"workflow.paused","message":"Paused","timestamp":"2026-01-01T00:00:02.000Z","seq":17,"checkpoint":"pre_step_2"}',
    },
  },
  live_event: {
    summary: 'Live text of a step: no id, never replayed',
    value: {
      event: 'LLM_PARTIAL',
      data: '{"workflow_id":"task-123","type":"LLM_PARTIAL","message":"Step 1 output so far","timestamp":"2026-01-01T00:00:01.000Z","step":1,"delta":"Revenue grew "}',
    },
  },
  done: {
    summary: 'The last event once the task is closed',
    value: { event: 'done', data: '[DONE]' },
  },
  error: {
    summary: 'The last event of a stream that cannot go on',
    value: { event: 'error', data: '{"error":"Task not found"}' },
  },
};

/**
 * The schema of one event of the stream (what OpenAPI 3.2 calls `itemSchema`), as SSE clients
 * and schemathesis read a `text/event-stream` schema: `id`, `event` and `data` fields.
 */
const STREAM_EVENT_SCHEMA = {
  type: 'object',
  required: ['event', 'data'],
  properties: {
    id: {
      type: 'string',
      pattern: '^[1-9][0-9]*$',
      description:
        "The event's `seq`: increasing along the stream; absent on live events. Send the last " +
        'one received as `Last-Event-ID` to resume after it.',
    },
    event: { type: 'string', enum: [...STREAM_EVENT_TYPES, 'done', 'error'] },
    data: {
      type: 'string',
      description:
        'One line of JSON: the event object (`type` = `event`); `[DONE]` for `done`; ' +
        '`{"error": ...}` for `error`',
    },
  },
};

const StreamDocs = () =>
  applyDecorators(
    ApiProduces('text/event-stream'),
    ApiHeader({
      name: 'Last-Event-ID',
      required: false,
      description:
        'The `id` of the last event received: the stream sends the events after it ' +
        '(wins over `last_event_id`; empty means from the start)',
      schema: { type: 'string', pattern: LAST_EVENT_ID_PATTERN.source, example: '17' },
    }),
    ApiOkResponse({
      description: STREAM_DESCRIPTION,
      content: {
        'text/event-stream': {
          schema: STREAM_EVENT_SCHEMA,
          examples: STREAM_EXAMPLES,
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
    const task = await this.feeds.opening(`${principal.tenantId}/${taskId}`, () =>
      this.tasks.get(principal, taskId),
    );

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
