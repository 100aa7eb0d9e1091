import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { json, type NextFunction, type Request, type Response } from 'express';
import { InvalidInputError, PayloadTooLargeError } from './domain-error';

/** The largest body any route reads: 1 MiB, after decompression. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Deeper JSON is refused: recursive code further on (validation, hashing) would overflow. */
export const MAX_JSON_DEPTH = 64;

const TOO_LARGE = 'Request body too large: the limit is 1 MiB';

/** Every body is read as JSON, so `curl -d '{...}'` without a Content-Type works too. */
const parseJson = json({ limit: BODY_LIMIT_BYTES, type: () => true });

/** Whether objects and arrays in `root` nest more than `max` levels; iterative, no recursion. */
function nestedDeeperThan(root: unknown, max: number): boolean {
  const values: unknown[] = [root];
  const levels: number[] = [1];
  while (values.length > 0) {
    const value = values.pop();
    const level = levels.pop() ?? 1;
    if (typeof value !== 'object' || value === null) continue;
    if (level > max) return true;
    for (const child of Object.values(value)) {
      if (typeof child === 'object' && child !== null) {
        values.push(child);
        levels.push(level + 1);
      }
    }
  }
  return false;
}

/** Reads and parses the request's JSON body into `req.body`, with the documented errors. */
function readJsonBody(req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) =>
    parseJson(req, res, (err?: unknown) => {
      if (err !== undefined) {
        const { type, message } = err as { type?: string; message?: string };
        if (type === 'entity.too.large') {
          // The rest of the body is never read: close rather than drain it.
          res.setHeader('Connection', 'close');
          reject(new PayloadTooLargeError(TOO_LARGE));
        } else {
          reject(new InvalidInputError(`Invalid request body: ${message ?? 'unreadable'}`));
        }
      } else if (nestedDeeperThan(req.body, MAX_JSON_DEPTH)) {
        reject(
          new InvalidInputError(
            `Invalid request body: nested more than ${MAX_JSON_DEPTH} levels deep`,
          ),
        );
      } else {
        resolve();
      }
    }),
  );
}

/**
 * Reads the request body only once the request is let in: installed as the last global guard,
 * after the key guard and the rate limit, so a caller without a valid key (or over its budget)
 * costs no body parsing or decompression. A guard rather than middleware because middleware
 * runs before the guards; rather than an interceptor because it costs no Observable per request.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    // Most requests (every GET) have none: skip the parser's own checks and the promise.
    if (!announcesBody(req)) return true;
    return readJsonBody(req, http.getResponse<Response>()).then(() => true);
  }
}

/** Whether the request says a body follows (chunked, or a Content-Length above 0). */
function announcesBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Past this announced size a body is not worth reading even to discard it. */
const DRAIN_LIMIT_BYTES = 8 * BODY_LIMIT_BYTES;

/**
 * Whether a body refused as too large is still read and discarded after the 413 (the error
 * filter closes the connection otherwise). HTTP asks this of a server that answers early: a
 * load balancer between client and API would close the client's connection while it is still
 * sending, and some clients then see a reset instead of the 413. An announcement past any
 * plausible size (e.g. 99999999999), or a chunked body, gets its connection closed at once.
 */
export function worthDraining(req: Request | undefined): boolean {
  const length = req?.headers?.['content-length'];
  return length !== undefined && Number(length) <= DRAIN_LIMIT_BYTES;
}

/** Refuses a request whose Content-Length announces more than the limit before anything else. */
export function refuseOversizedBody(req: Request, res: Response, next: NextFunction): void {
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > BODY_LIMIT_BYTES) {
    next(new PayloadTooLargeError(TOO_LARGE));
    return;
  }
  next();
}
