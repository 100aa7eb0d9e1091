import { Webhook } from 'standardwebhooks';
import type { ExecutorConfig } from '../config/app-config';
import { fatal, isRetryableStatus, retryAfterMs, retryable } from './call-failures';
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

type HttpExecutorConfig = Extract<ExecutorConfig, { kind: 'http' }>;

/** How much of an answer's body goes into a task's error. */
const BODY_IN_ERROR = 500;
/** A larger answer is refused: results are kept in Temporal, which limits payloads to 2 MB. */
const MAX_ANSWER_BYTES = 2 * 1024 * 1024;
const MAX_STEPS = 50;

/** An answer of the service: its status and body (text, and parsed when it is JSON). */
interface Answer {
  status: number;
  text: string;
  json?: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads at most MAX_ANSWER_BYTES of a body; undefined when it is larger. */
async function readBody(response: Response): Promise<string | undefined> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await response.body.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `TASK_EXECUTOR=http`: each phase is a POST of JSON to the team's own service at
 * `<EXECUTOR_HTTP_URL>/plan`, `/step` and `/synthesize`, signed per Standard Webhooks with
 * `WEBHOOK_SECRET`. A network error, a timeout, 429 or 5xx is retried by Temporal (after the
 * answer's `Retry-After` when it has one); any other answer that is not a 2xx with the expected
 * JSON ends the task FAILED with the path, the status and the start of the body.
 */
export class HttpExecutor implements TaskExecutor {
  private readonly signer: Webhook;

  constructor(private readonly config: HttpExecutorConfig) {
    this.signer = new Webhook(config.signingSecret);
  }

  async plan(task: TaskInput, ctx: PhaseContext): Promise<PlanResult> {
    const where = '/plan';
    const answer = await this.post(ctx, where, {
      task_id: ctx.taskId,
      query: task.query,
      context: task.context,
      mode: task.mode ?? 'standard',
      session_id: task.session_id,
    });
    const steps = isObject(answer.json) ? answer.json.steps : undefined;
    if (
      !Array.isArray(steps) ||
      steps.length < 1 ||
      steps.length > MAX_STEPS ||
      !steps.every((s) => typeof s === 'string')
    ) {
      throw this.malformed(where, answer, `{"steps":[...]} with 1 to ${MAX_STEPS} strings`);
    }
    return { steps };
  }

  async runStep(input: StepInput, ctx: PhaseContext): Promise<StepResult> {
    const where = `/step (step ${input.step} of ${input.total})`;
    const answer = await this.post(ctx, where, {
      task_id: ctx.taskId,
      query: input.task.query,
      context: input.task.context,
      step: input.step,
      total: input.total,
      description: input.description,
      previous_outputs: input.previous_outputs,
    });
    const output = isObject(answer.json) ? answer.json.output : undefined;
    if (typeof output !== 'string') throw this.malformed(where, answer, '{"output": string}');
    return { output };
  }

  async synthesize(input: SynthesisInput, ctx: PhaseContext): Promise<SynthesisResult> {
    const where = '/synthesize';
    const answer = await this.post(ctx, where, {
      task_id: ctx.taskId,
      query: input.task.query,
      context: input.task.context,
      outputs: input.outputs,
    });
    const result = isObject(answer.json) ? answer.json.result : undefined;
    if (typeof result !== 'string') throw this.malformed(where, answer, '{"result": string}');
    return { result };
  }

  /** POSTs one phase; resolves with a 2xx answer, throws the failure for anything else. */
  private async post(ctx: PhaseContext, where: string, payload: unknown): Promise<Answer> {
    const path = where.split(' ')[0];
    const body = JSON.stringify(payload);
    const now = new Date();
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    let response: Response;
    let text: string | undefined;
    try {
      response = await fetch(`${this.config.url}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          traceparent: ctx.traceparent,
          'Idempotency-Key': ctx.idempotencyKey,
          // Standard Webhooks: the id is the same on every retry of the call, so a service
          // that remembers ids also recognizes a retry.
          'webhook-id': ctx.idempotencyKey,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': this.signer.sign(ctx.idempotencyKey, now, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([ctx.signal, timeout]),
      });
      text = await readBody(response);
    } catch (err) {
      if (ctx.signal.aborted) throw err; // cancelled: reported as such by the activity
      if (timeout.aborted) {
        throw retryable(
          `http executor: ${where} timed out after ${this.config.timeoutMs} ms`,
          'ExecutorTimeout',
        );
      }
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw retryable(
        `http executor: ${where} could not be reached: ${cause}`,
        'ExecutorUnavailable',
      );
    }
    if (text === undefined) {
      throw fatal(
        `http executor: ${where} answered ${response.status} with more than ${MAX_ANSWER_BYTES} bytes`,
        'ExecutorAnswerTooLarge',
      );
    }
    const answer: Answer = { status: response.status, text };
    const failure = `http executor: ${where} answered ${response.status}: ${text.slice(0, BODY_IN_ERROR)}`;
    if (isRetryableStatus(response.status)) {
      throw retryable(
        failure,
        'ExecutorUnavailable',
        retryAfterMs(response.headers.get('retry-after')),
      );
    }
    if (response.status < 200 || response.status > 299) throw fatal(failure, 'ExecutorRefused');
    try {
      answer.json = JSON.parse(text);
    } catch {
      // Not JSON: reported as a malformed answer by the caller.
    }
    return answer;
  }

  private malformed(where: string, answer: Answer, expected: string) {
    return fatal(
      `http executor: ${where} answered ${answer.status} without ${expected}: ` +
        answer.text.slice(0, BODY_IN_ERROR),
      'ExecutorMalformedAnswer',
    );
  }
}
