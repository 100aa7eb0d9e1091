/**
 * A STAND-IN for an OpenAI-compatible model server: no language model can be reached from the
 * test machines, so this small server speaks the chat completions protocol itself
 * (`POST /v1/chat/completions`): JSON answers, streamed `data:` chunks ending with
 * `data: [DONE]`, `usage`, 429 with `Retry-After` and 500. Its answers are scripted, not
 * generated: tests assert what the executor sent and what it made of the answers.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { RecordedRequest, RecordingServer, sendJson } from './recording-server';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What the stand-in answers to one request; undefined for its default answer. */
export type Script = (
  request: RecordedRequest,
  kind: 'plan' | 'step' | 'synthesize',
) => Reply | undefined;

export type Reply =
  | { kind: 'error'; status: number; message: string; headers?: Record<string, string> }
  | { kind: 'json'; content: string; usage: Usage }
  | { kind: 'stream'; pieces: string[]; usage: Usage; gapMs?: number };

const completion = (model: string, content: string, usage: Usage) => ({
  id: 'chatcmpl-standin',
  object: 'chat.completion',
  created: Math.floor(Date.now() / 1000),
  model,
  choices: [
    { index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null },
  ],
  usage,
});

const chunk = (model: string, choices: unknown[], usage: Usage | null = null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-standin',
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    choices,
    usage,
  })}\n\n`;

export class ChatCompletionsStandIn {
  /** Streams that have sent their last chunk, by request. */
  readonly streamsFinished = new Map<RecordedRequest, number>();

  private constructor(
    readonly server: RecordingServer,
    readonly apiKey: string,
  ) {}

  /** The base URL to give OPENAI_BASE_URL. */
  get baseUrl(): string {
    return `${this.server.url}/v1`;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  static async start(apiKey: string, script: Script): Promise<ChatCompletionsStandIn> {
    const holder: { standIn?: ChatCompletionsStandIn } = {};
    const server = await RecordingServer.start((req, res) =>
      holder.standIn!.answer(req, res, script),
    );
    holder.standIn = new ChatCompletionsStandIn(server, apiKey);
    return holder.standIn;
  }

  /** What a request asked for, by the shape the executor gives each phase. */
  static kindOf(request: RecordedRequest): 'plan' | 'step' | 'synthesize' {
    if (request.json?.response_format) return 'plan';
    return request.json?.stream ? 'step' : 'synthesize';
  }

  private async answer(req: RecordedRequest, res: ServerResponse, script: Script): Promise<void> {
    if (req.method !== 'POST' || req.path !== '/v1/chat/completions') {
      return sendJson(res, 404, { error: { message: 'Not found', type: 'invalid_request_error' } });
    }
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      // As the real service does, the answer repeats the key it was given.
      return sendJson(res, 401, {
        error: {
          message: `Incorrect API key provided: ${String(req.headers.authorization).slice(7)}`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      });
    }
    const kind = ChatCompletionsStandIn.kindOf(req);
    const model = req.json.model as string;
    const reply = script(req, kind) ?? this.defaultReply(kind);
    switch (reply.kind) {
      case 'error':
        return sendJson(
          res,
          reply.status,
          { error: { message: reply.message, type: 'server_error' } },
          reply.headers,
        );
      case 'json':
        return sendJson(res, 200, completion(model, reply.content, reply.usage));
      case 'stream': {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        res.write(chunk(model, [{ index: 0, delta: { role: 'assistant', content: '' } }]));
        for (const piece of reply.pieces) {
          if (reply.gapMs) await sleep(reply.gapMs);
          if (res.destroyed) return;
          res.write(chunk(model, [{ index: 0, delta: { content: piece }, finish_reason: null }]));
        }
        res.write(chunk(model, [{ index: 0, delta: {}, finish_reason: 'stop' }]));
        // With stream_options.include_usage, a last chunk with no choices carries the usage.
        if (req.json.stream_options?.include_usage) res.write(chunk(model, [], reply.usage));
        res.write('data: [DONE]\n\n');
        this.streamsFinished.set(req, Date.now());
        res.end();
        return;
      }
    }
  }

  private defaultReply(kind: 'plan' | 'step' | 'synthesize'): Reply {
    switch (kind) {
      case 'plan':
        return {
          kind: 'json',
          content: JSON.stringify({ steps: ['Find the figures', 'Explain the trend'] }),
          usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
        };
      case 'step':
        return {
          kind: 'stream',
          pieces: ['Revenue ', 'grew ', '12%.'],
          usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
        };
      case 'synthesize':
        return {
          kind: 'json',
          content: 'Revenue grew 12%, driven by services.',
          usage: { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 },
        };
    }
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
