import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ExecutorConfig } from '../config/app-config';
import type { TaskMode, TokenUsage } from '../workflows/contract';
import { fatal, isRetryableStatus, modelServerRetryDelayMs, retryable } from './call-failures';
import type {
  PhaseContext,
  PlanResult,
  StepInput,
  StepResult,
  SynthesisInput,
  SynthesisResult,
  TaskExecutor,
  TaskInput,
} from './contract';

type OpenAiExecutorConfig = Extract<ExecutorConfig, { kind: 'openai' }>;

export const PROVIDER = 'openai';
/** Until the answer starts; a streamed step then takes as long as the model writes. */
const CALL_TIMEOUT_MS = 10 * 60 * 1000;
/** The plan a model's unusable answer falls back to. */
export const FALLBACK_PLAN = ['Answer the query'];
const MAX_STEPS = 50;
const BODY_IN_ERROR = 500;

/** How many steps a plan may have, by the task's mode. */
const STEPS_BY_MODE: Record<TaskMode, number> = {
  simple: 2,
  standard: 4,
  complex: 8,
  supervisor: 8,
};

const queryText = (task: TaskInput): string =>
  Object.keys(task.context).length > 0
    ? `Query: ${task.query}\nContext (JSON): ${JSON.stringify(task.context)}`
    : `Query: ${task.query}`;

const numbered = (outputs: readonly string[]): string =>
  outputs.map((output, i) => `Step ${i + 1}:\n${output}`).join('\n\n');

/** The messages of each phase: the whole of what the model is told. */
export const prompts = {
  plan: (task: TaskInput): ChatCompletionMessageParam[] => [
    {
      role: 'system',
      content:
        "You plan how to answer a user's query. Reply with a JSON object " +
        `{"steps": ["..."]} holding 1 to ${STEPS_BY_MODE[task.mode ?? 'standard']} short step ` +
        'descriptions, in order. Each step is carried out on its own, then the results are ' +
        'combined into the answer.',
    },
    { role: 'user', content: queryText(task) },
  ],
  step: (input: StepInput): ChatCompletionMessageParam[] => [
    {
      role: 'system',
      content:
        "You carry out one step of a plan that answers a user's query. Reply with the " +
        "step's result only.",
    },
    {
      role: 'user',
      content:
        `${queryText(input.task)}\nStep ${input.step} of ${input.total}: ${input.description}` +
        (input.previous_outputs.length > 0
          ? `\n\nResults of the previous steps:\n${numbered(input.previous_outputs)}`
          : ''),
    },
  ],
  synthesize: (input: SynthesisInput): ChatCompletionMessageParam[] => [
    {
      role: 'system',
      content:
        "You write the final answer to a user's query from the results of the steps " +
        'taken to answer it. Reply with the answer only.',
    },
    {
      role: 'user',
      content: `${queryText(input.task)}\n\nResults of the steps:\n${numbered(input.outputs)}`,
    },
  ],
};

/** The steps of a plan answer, or undefined when the answer is unusable. */
function parsePlan(content: string | null | undefined): string[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(content ?? '');
  } catch {
    return undefined;
  }
  const list: unknown =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>).steps
      : value;
  if (!Array.isArray(list)) return undefined;
  const steps = list
    .filter((s): s is string => typeof s === 'string')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .slice(0, MAX_STEPS);
  return steps.length > 0 ? steps : undefined;
}

const toUsage = (usage: CompletionUsage | null | undefined): TokenUsage | undefined =>
  usage
    ? {
        input_tokens: usage.prompt_tokens ?? 0,
        output_tokens: usage.completion_tokens ?? 0,
        total_tokens: usage.total_tokens ?? 0,
      }
    : undefined;

/**
 * `TASK_EXECUTOR=openai`: a language model behind an OpenAI-compatible chat completions API
 * does the work. The plan is one JSON-mode completion, each step one streamed completion (its
 * text so far goes out as heartbeats, which event streams turn into `LLM_PARTIAL`), the
 * synthesis one completion. The SDK's own retries are off: Temporal retries a call (429, 5xx,
 * network), after the server's `Retry-After` when it sends one. The API key appears in no
 * message this executor writes.
 */
export class OpenAiExecutor implements TaskExecutor {
  private readonly client: OpenAI;

  constructor(private readonly config: OpenAiExecutorConfig) {
    this.client = new OpenAI({
      apiKey: config.apiKey,
      baseURL: config.baseUrl,
      // Set explicitly so that nothing is taken from the environment behind config's back.
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: CALL_TIMEOUT_MS,
      logLevel: 'off',
    });
  }

  async plan(task: TaskInput, ctx: PhaseContext): Promise<PlanResult> {
    const model = this.modelFor(task);
    const completion = await this.guard('plan', model, () =>
      this.client.chat.completions.create(
        { model, messages: prompts.plan(task), response_format: { type: 'json_object' } },
        { signal: ctx.signal },
      ),
    );
    return {
      steps: parsePlan(completion.choices[0]?.message?.content) ?? FALLBACK_PLAN,
      ...this.report(completion.model || model, completion.usage),
    };
  }

  async runStep(input: StepInput, ctx: PhaseContext): Promise<StepResult> {
    const model = this.modelFor(input.task);
    ctx.partialOutput('');
    return this.guard(`step ${input.step} of ${input.total}`, model, async () => {
      const stream = await this.client.chat.completions.create(
        {
          model,
          messages: prompts.step(input),
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal: ctx.signal },
      );
      let output = '';
      let answeredBy = '';
      let usage: CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        answeredBy ||= chunk.model;
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) {
          output += delta;
          ctx.partialOutput(output);
        }
        if (chunk.usage) usage = chunk.usage;
      }
      return { output, ...this.report(answeredBy || model, usage) };
    });
  }

  async synthesize(input: SynthesisInput, ctx: PhaseContext): Promise<SynthesisResult> {
    const model = this.modelFor(input.task);
    const completion = await this.guard('synthesize', model, () =>
      this.client.chat.completions.create(
        { model, messages: prompts.synthesize(input) },
        { signal: ctx.signal },
      ),
    );
    return {
      result: completion.choices[0]?.message?.content ?? '',
      ...this.report(completion.model || model, completion.usage),
    };
  }

  private modelFor(task: TaskInput): string {
    return (task.model_tier && this.config.tierModels[task.model_tier]) || this.config.model;
  }

  private report(model: string, usage: CompletionUsage | null | undefined) {
    const tokens = toUsage(usage);
    return { provider: PROVIDER, model, ...(tokens && { usage: tokens }) };
  }

  /** Runs a call; turns what it throws into the failure Temporal should act on. */
  private async guard<T>(phase: string, model: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.failure(phase, model, err);
    }
  }

  private failure(phase: string, model: string, err: unknown): unknown {
    const where = `openai ${phase}`;
    const server = this.config.baseUrl;
    // Aborted because the task was cancelled: the activity reports the cancellation.
    if (!(err instanceof Error) || err.name === 'AbortError') return err;
    if (err instanceof APIConnectionTimeoutError) {
      return retryable(`${where}: ${server} did not answer in time`, 'ModelServerTimeout');
    }
    if (err instanceof APIConnectionError) {
      const cause = (err.cause as Error | undefined)?.message ?? err.message;
      return retryable(
        `${where}: ${server} could not be reached: ${this.redact(cause)}`,
        'ModelServerUnavailable',
      );
    }
    if (err instanceof APIError && typeof err.status === 'number') {
      // Typed by hand: the SDK's generic error type reads as `any` to the linter.
      const { status, headers, error } = err as {
        status: number;
        headers?: Headers;
        error?: unknown;
      };
      const detail =
        typeof error === 'object' && error !== null && 'message' in error
          ? String(error.message)
          : err.message;
      const said = this.redact(detail.slice(0, BODY_IN_ERROR));
      if (isRetryableStatus(status)) {
        return retryable(
          `${where}: ${server} answered ${status}: ${said}`,
          'ModelServerUnavailable',
          modelServerRetryDelayMs(headers),
        );
      }
      switch (status) {
        case 401:
          return fatal(
            `${where}: ${server} refused the API key (401); check OPENAI_API_KEY`,
            'ModelServerUnauthorized',
          );
        case 403:
          return fatal(
            `${where}: the API key may not use model "${model}" at ${server} (403)`,
            'ModelServerForbidden',
          );
        case 404:
          return fatal(
            `${where}: model "${model}" or the chat completions endpoint was not found at ` +
              `${server} (404)`,
            'ModelNotFound',
          );
        default:
          return fatal(
            `${where}: ${server} refused the request (${status}): ${said}`,
            'ModelServerRefused',
          );
      }
    }
    // Anything else (a stream cut short, an answer that does not parse) may not happen again.
    return retryable(`${where}: ${this.redact(err.message)}`, 'ModelServerError');
  }

  /** Whatever a server or library said, without the API key in it. */
  private redact(text: string): string {
    return this.config.apiKey ? text.split(this.config.apiKey).join('[redacted]') : text;
  }
}
