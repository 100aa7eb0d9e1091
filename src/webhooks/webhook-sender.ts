import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import {
  PrivateTargetError,
  literalTargetAllowed,
  publicOnlyLookup,
} from '../common/webhook-target';

/** How one attempt ended: a 2xx, or why not (for logs: no secret, no URL beyond its origin). */
export type AttemptOutcome = { ok: true; status: number } | { ok: false; reason: string };

export interface WebhookSenderOptions {
  /** Standard Webhooks secret, `whsec_<base64>`. */
  secret: string;
  allowPrivate: boolean;
  /** One attempt gives up after this. */
  timeoutMs: number;
}

/** Answer bodies are read (so the connection can be reused) up to this, then the socket is dropped. */
const MAX_DRAINED_BYTES = 64 * 1024;

/**
 * Sends one webhook message: a POST of its JSON body, signed per Standard Webhooks with the
 * secret (`webhook-id`, `webhook-timestamp` of this attempt, `webhook-signature` over
 * `<id>.<timestamp>.<body>`). Redirects are not followed (a 3xx is a failed attempt), and
 * unless private targets are allowed, the connection may only go to a public address, checked
 * on the address it connects to.
 */
export class WebhookSender {
  private readonly signer: Webhook;
  private readonly lookup?: LookupFunction;
  private readonly agents = {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true }),
  };

  constructor(private readonly options: WebhookSenderOptions) {
    this.signer = new Webhook(options.secret);
    this.lookup = options.allowPrivate ? undefined : publicOnlyLookup();
  }

  /** One attempt; never throws (an abort through `signal` ends it as a failed attempt). */
  async send(url: string, id: string, body: string, signal: AbortSignal): Promise<AttemptOutcome> {
    const target = new URL(url);
    if (!literalTargetAllowed(target, this.options.allowPrivate)) {
      return { ok: false, reason: 'refused: the target is not a public address' };
    }
    const now = new Date();
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'task-control-api-webhooks',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': this.signer.sign(id, now, body),
    };
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const https = target.protocol === 'https:';
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = (https ? httpsRequest : httpRequest)(target, {
          method: 'POST',
          headers,
          agent: https ? this.agents.https : this.agents.http,
          lookup: this.lookup,
          signal: AbortSignal.any([signal, timeout]),
        });
        req.once('error', reject);
        req.once('response', (res: IncomingMessage) => {
          drain(res).then(() => resolve(res.statusCode ?? 0), reject);
        });
        req.end(body);
      });
      if (status >= 200 && status <= 299) return { ok: true, status };
      return { ok: false, reason: `answered ${status}` };
    } catch (err) {
      if (timeout.aborted)
        return { ok: false, reason: `no answer within ${this.options.timeoutMs} ms` };
      if (signal.aborted) return { ok: false, reason: 'stopped' };
      if (err instanceof PrivateTargetError)
        return { ok: false, reason: `refused: ${err.message}` };
      return { ok: false, reason: `could not be reached: ${(err as Error).message}` };
    }
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/** Reads an answer to its end (so its connection is reused), or drops it when it is long. */
function drain(res: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAINED_BYTES) {
        res.destroy();
        resolve();
      }
    });
    res.once('end', resolve);
    res.once('error', reject);
    res.once('close', resolve);
  });
}
