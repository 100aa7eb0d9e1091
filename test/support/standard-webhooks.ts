import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RecordedRequest } from './recording-server';

/**
 * The Standard Webhooks check written from the convention itself, independent of the library
 * the service signs with: HMAC-SHA256 over "<id>.<timestamp>.<body>" with the base64-decoded
 * secret (after its `whsec_` prefix), base64, as one of the space-separated "v1,<signature>"
 * entries, and a timestamp within five minutes of now.
 */
export function verifyStandardWebhook(request: RecordedRequest, secret: string): boolean {
  const id = request.headers['webhook-id'];
  const timestamp = request.headers['webhook-timestamp'];
  const header = request.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof header !== 'string') {
    return false;
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${request.body}`).digest();
  const fresh = Math.abs(Number(timestamp) - Date.now() / 1000) < 300;
  return (
    fresh &&
    header.split(' ').some((entry) => {
      const [version, signature] = entry.split(',');
      const given = Buffer.from(signature ?? '', 'base64');
      return (
        version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected)
      );
    })
  );
}
