/**
 * TASK_EXECUTOR=openai against a local STAND-IN for a chat completions server (see
 * support/chat-completions-stand-in.ts): no model server can be reached from the test machines.
 * What the executor sends each phase, what it makes of JSON and streamed answers, retries on
 * 429 / 500, failures that name their cause but never the key, model and usage in the status,
 * and the live LLM_PARTIAL / LLM_OUTPUT events of a streaming step.
 */
import { randomUUID } from 'node:crypto';
import { TestApi } from './support/api';
import { ChatCompletionsStandIn, Script } from './support/chat-completions-stand-in';
import { temporalEnv } from './support/e2e-env';
import { KEYS } from './support/keys';
import { NodeProcess, startNodeProcess } from './support/processes';
import type { RecordedRequest } from './support/recording-server';
import { SseStream } from './support/sse';
import { TemporalObserver } from './support/temporal';

const API_KEY = `sk-standin-${randomUUID()}`;
const QUERY = 'How did revenue develop?';
const SLOW_PIECES = [
  'The ',
  'figures ',
  'show ',
  'steady ',
  'growth ',
  'in ',
  'every ',
  'quarter.',
];

const scenarioOf = (request: RecordedRequest): string | undefined => {
  const text = (request.json?.messages ?? []).map((m: any) => m.content).join('\n');
  return /"scenario":"([\w-]+)"/.exec(text)?.[1];
};

/** How many identical requests came before this one: 0 for a first try, more for retries. */
const earlier = (standIn: ChatCompletionsStandIn, request: RecordedRequest) =>
  standIn.requests
    .slice(0, standIn.requests.indexOf(request))
    .filter((r) => r.body === request.body).length;

const script =
  (standIn: () => ChatCompletionsStandIn): Script =>
  (request, kind) => {
    const scenario = scenarioOf(request);
    const first = earlier(standIn(), request) === 0;
    switch (scenario) {
      case 'flaky':
        if (kind === 'step' && first && request.body.includes('Step 1 of 2')) {
          return {
            kind: 'error',
            status: 429,
            message: 'Rate limit reached',
            headers: { 'Retry-After': '2' },
          };
        }
        if (kind === 'synthesize' && first) {
          return { kind: 'error', status: 500, message: 'The server had an error' };
        }
        return undefined;
      case 'bad-plan':
        if (kind === 'plan') {
          return {
            kind: 'json',
            content: 'Sure! First find the figures, then explain them.',
            usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
          };
        }
        return undefined;
      case 'wrong-key':
        // As if the key had been revoked: the answer repeats the key it was given.
        return {
          kind: 'error',
          status: 401,
          message: `Incorrect API key provided: ${String(request.headers.authorization).slice(7)}`,
        };
      case 'no-model':
        return { kind: 'error', status: 404, message: 'The model does not exist' };
      case 'slow-stream':
        if (kind === 'plan') {
          return {
            kind: 'json',
            content: JSON.stringify({ steps: ['Describe the figures'] }),
            usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
          };
        }
        if (kind === 'step') {
          return {
            kind: 'stream',
            pieces: SLOW_PIECES,
            gapMs: 400,
            usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
          };
        }
        return undefined;
      default:
        return undefined;
    }
  };

describe('TASK_EXECUTOR=openai (against a stand-in chat completions server)', () => {
  const taskQueue = `openai-executor-${randomUUID()}`;
  let standIn: ChatCompletionsStandIn;
  let worker: NodeProcess;
  let api: TestApi;
  let temporal: TemporalObserver;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    standIn = await ChatCompletionsStandIn.start(
      API_KEY,
      script(() => standIn),
    );
    worker = startNodeProcess('worker', {
      ...temporalEnv(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      TASK_EXECUTOR: 'openai',
      OPENAI_BASE_URL: standIn.baseUrl,
      OPENAI_API_KEY: API_KEY,
      OPENAI_MODEL: 'standin-default',
      OPENAI_MODEL_LARGE: 'standin-large',
    });
    api = await TestApi.start({ taskQueue });
    temporal = await TemporalObserver.connect();
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    await api?.close();
    await worker?.stop();
    await temporal?.close();
    await standIn?.close();
  });

  const submit = async (context: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const res = await api.request('POST', '/api/v1/tasks', {
      json: { query: QUERY, context, ...extra },
    });
    expect(res.status).toBe(200);
    return res.body.task_id as string;
  };
  const status = async (taskId: string) =>
    (await api.request('GET', `/api/v1/tasks/${taskId}`)).body;
  const requestsOf = (scenario: string) =>
    standIn.requests.filter((r) => scenarioOf(r) === scenario);

  it('plans with JSON mode, streams each step, synthesizes, and reports model, provider and usage', async () => {
    const taskId = await submit({ scenario: 'ok' }, { model_tier: 'large', mode: 'complex' });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const user = `Query: ${QUERY}\nContext (JSON): {"scenario":"ok"}`;
    expect(requestsOf('ok').map((r) => r.json)).toEqual([
      {
        model: 'standin-large',
        messages: [
          {
            role: 'system',
            content:
              "You plan how to answer a user's query. Reply with a JSON object " +
              '{"steps": ["..."]} holding 1 to 8 short step descriptions, in order. Each step ' +
              'is carried out on its own, then the results are combined into the answer.',
          },
          { role: 'user', content: user },
        ],
        response_format: { type: 'json_object' },
      },
      {
        model: 'standin-large',
        messages: [
          {
            role: 'system',
            content:
              "You carry out one step of a plan that answers a user's query. Reply with the " +
              "step's result only.",
          },
          { role: 'user', content: `${user}\nStep 1 of 2: Find the figures` },
        ],
        stream: true,
        stream_options: { include_usage: true },
      },
      {
        model: 'standin-large',
        messages: [
          expect.objectContaining({ role: 'system' }),
          {
            role: 'user',
            content:
              `${user}\nStep 2 of 2: Explain the trend\n\n` +
              'Results of the previous steps:\nStep 1:\nRevenue grew 12%.',
          },
        ],
        stream: true,
        stream_options: { include_usage: true },
      },
      {
        model: 'standin-large',
        messages: [
          {
            role: 'system',
            content:
              "You write the final answer to a user's query from the results of the steps " +
              'taken to answer it. Reply with the answer only.',
          },
          {
            role: 'user',
            content:
              `${user}\n\nResults of the steps:\nStep 1:\nRevenue grew 12%.\n\n` +
              'Step 2:\nRevenue grew 12%.',
          },
        ],
      },
    ]);
    for (const request of requestsOf('ok')) {
      expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    }

    expect(await status(taskId)).toMatchObject({
      status: 'TASK_STATUS_COMPLETED',
      result: 'Revenue grew 12%, driven by services.',
      error: '',
      model_used: 'standin-large',
      provider: 'openai',
      // Plan 11/7, two steps 20/5 each, synthesis 30/10.
      usage: { input_tokens: 81, output_tokens: 27, total_tokens: 108 },
    });
  });

  it('retries a 429 after its Retry-After and a 500, counting only the answered calls', async () => {
    const taskId = await submit({ scenario: 'flaky' });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const calls = requestsOf('flaky');
    const kinds = calls.map((r) => ChatCompletionsStandIn.kindOf(r));
    expect(kinds).toEqual(['plan', 'step', 'step', 'step', 'synthesize', 'synthesize']);
    expect(calls[2].body).toBe(calls[1].body);
    // Temporal's own first backoff is 1 s: the 2 s the server asked for were honoured.
    expect(calls[2].receivedAt - calls[1].receivedAt).toBeGreaterThanOrEqual(1900);
    expect(calls.every((r) => r.json.model === 'standin-default')).toBe(true);
    expect(await status(taskId)).toMatchObject({
      status: 'TASK_STATUS_COMPLETED',
      model_used: 'standin-default',
      provider: 'openai',
      usage: { input_tokens: 81, output_tokens: 27, total_tokens: 108 },
    });
  });

  it('falls back to a single step when the plan is not usable JSON (a tier without its own model uses OPENAI_MODEL)', async () => {
    const taskId = await submit({ scenario: 'bad-plan' }, { model_tier: 'small' });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const calls = requestsOf('bad-plan');
    expect(calls.map((r) => ChatCompletionsStandIn.kindOf(r))).toEqual([
      'plan',
      'step',
      'synthesize',
    ]);
    expect(calls[1].json.messages[1].content).toBe(
      `Query: ${QUERY}\nContext (JSON): {"scenario":"bad-plan"}\nStep 1 of 1: Answer the query`,
    );
    expect(calls.every((r) => r.json.model === 'standin-default')).toBe(true);
  });

  it('ends the task FAILED on 401 and 404 with a message naming the cause, never the key', async () => {
    const [unauthorized, missing] = await Promise.all([
      submit({ scenario: 'wrong-key' }),
      submit({ scenario: 'no-model' }),
    ]);
    await api.waitForStatus(unauthorized, 'TASK_STATUS_FAILED');
    await api.waitForStatus(missing, 'TASK_STATUS_FAILED');

    expect((await status(unauthorized)).error).toBe(
      `openai plan: ${standIn.baseUrl} refused the API key (401); check OPENAI_API_KEY`,
    );
    expect((await status(missing)).error).toBe(
      `openai plan: model "standin-default" or the chat completions endpoint was not found at ${standIn.baseUrl} (404)`,
    );
    // Neither retried: the same answer would come back.
    expect(requestsOf('wrong-key')).toHaveLength(1);
    expect(requestsOf('no-model')).toHaveLength(1);
    for (const taskId of [unauthorized, missing]) {
      expect(JSON.stringify(await temporal.history(taskId))).not.toContain(API_KEY);
      const events = await api.request('GET', `/api/v1/tasks/${taskId}/events`);
      expect(events.text).not.toContain(API_KEY);
    }
    expect(worker.output()).not.toContain(API_KEY);
  });

  it('sends the streamed text of a step live as LLM_PARTIAL deltas, then LLM_OUTPUT, without ids and never replayed', async () => {
    const taskId = await submit({ scenario: 'slow-stream' });
    // A second API instance follows the step on its own, from Temporal.
    const other = await TestApi.start({ taskQueue });
    const open = async (query = '', on: TestApi = api) => {
      const stream = await SseStream.open(`${on.baseUrl}/api/v1/tasks/${taskId}/stream${query}`, {
        'X-API-Key': KEYS.acmeWriter,
      });
      streams.push(stream);
      return stream;
    };
    const stream = await open();
    const filtered = await open('?types=LLM_PARTIAL,WORKFLOW_COMPLETED');
    const elsewhere = await open('', other);

    // The first delta arrives while the model is still writing.
    await stream.waitForEvent((e) => e.event === 'LLM_PARTIAL');
    const step = requestsOf('slow-stream').find((r) => r.json.stream)!;
    expect(standIn.streamsFinished.has(step)).toBe(false);
    await stream.waitForEnd();
    await filtered.waitForEnd();
    await elsewhere.waitForEnd();
    await other.close();

    const output = SLOW_PIECES.join('');
    const live = stream.received.filter((e) => e.id === undefined && e.event !== 'done');
    const partials = live.filter((e) => e.event === 'LLM_PARTIAL').map((e) => JSON.parse(e.data));
    expect(partials.length).toBeGreaterThanOrEqual(2);
    for (const partial of partials) {
      expect(partial).toEqual({
        workflow_id: taskId,
        type: 'LLM_PARTIAL',
        message: 'Step 1 output so far',
        timestamp: expect.any(String),
        step: 1,
        delta: expect.any(String),
      });
    }
    expect(partials.map((p) => p.delta).join('')).toBe(output);
    expect(live.map((e) => e.event)).toEqual([...partials.map(() => 'LLM_PARTIAL'), 'LLM_OUTPUT']);
    expect(JSON.parse(live.at(-1)!.data)).toEqual({
      workflow_id: taskId,
      type: 'LLM_OUTPUT',
      message: 'Step 1 output',
      timestamp: expect.any(String),
      step: 1,
      output,
    });

    // Around them, the task's events are exactly its event history: ids, order, nothing twice.
    const history = (await api.request('GET', `/api/v1/tasks/${taskId}/events?limit=200`)).body
      .events as any[];
    const withIds = stream.received.filter((e) => e.id !== undefined);
    expect(withIds.map((e) => JSON.parse(e.data))).toEqual(history);
    // LLM_OUTPUT comes before the step's completion is reported.
    const names = stream.received.map((e) =>
      e.event === 'PROGRESS' ? JSON.parse(e.data).message : e.event,
    );
    expect(names.indexOf('LLM_OUTPUT')).toBeLessThan(names.indexOf('Step 1 of 1 completed'));

    // A filtered stream gets the live events it asked for.
    expect(filtered.received.map((e) => e.event)).toEqual([
      ...filtered.received.filter((e) => e.event === 'LLM_PARTIAL').map(() => 'LLM_PARTIAL'),
      'WORKFLOW_COMPLETED',
      'done',
    ]);
    expect(
      filtered.events
        .filter((e) => e.type === 'LLM_PARTIAL')
        .map((e) => e.delta)
        .join(''),
    ).toBe(output);

    // The other instance sent the same text and the same task events.
    const fromOther = elsewhere.events;
    expect(
      fromOther
        .filter((e) => e.type === 'LLM_PARTIAL')
        .map((e) => e.delta)
        .join(''),
    ).toBe(output);
    expect(fromOther.find((e) => e.type === 'LLM_OUTPUT')).toMatchObject({ step: 1, output });
    const otherWithIds = elsewhere.received.filter((e) => e.id !== undefined);
    expect(otherWithIds.map((e) => JSON.parse(e.data))).toEqual(history);

    // A replay has the task's events only.
    const replay = await open('?last_event_id=0');
    await replay.waitForEnd();
    expect(
      replay.received.filter((e) => e.event !== 'done').map((e) => JSON.parse(e.data)),
    ).toEqual(history);
    expect(await status(taskId)).toMatchObject({
      result: 'Revenue grew 12%, driven by services.',
      usage: { input_tokens: 5 + 12 + 30, output_tokens: 5 + 8 + 10, total_tokens: 10 + 20 + 40 },
    });
  });

  it('stops a worker without OPENAI_API_KEY or OPENAI_MODEL, naming the variable', async () => {
    const base = { ...temporalEnv(), TASK_EXECUTOR: 'openai' };
    const noKey = startNodeProcess('worker', { ...base, OPENAI_MODEL: 'm' });
    const noModel = startNodeProcess('worker', { ...base, OPENAI_API_KEY: API_KEY });
    expect(await noKey.exited).toBe(1);
    expect(await noModel.exited).toBe(1);
    expect(noKey.output()).toContain(
      'Invalid configuration: OPENAI_API_KEY is required with TASK_EXECUTOR=openai',
    );
    expect(noModel.output()).toContain(
      'Invalid configuration: OPENAI_MODEL is required with TASK_EXECUTOR=openai',
    );
    expect(noModel.output()).not.toContain(API_KEY);
  });
});
