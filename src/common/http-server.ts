import { Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AppConfig } from '../config/app-config';

/** How often Node checks the header and request timeouts (its default, 30 s, would stretch them). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** At most one warning a minute about refused connections. */
const DROP_WARNING_INTERVAL_MS = 60_000;

/** Errors Node's HTTP parser and timers raise before a request reaches the app. */
const CLIENT_ERRORS: Record<string, { status: number; reason: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    message: 'Request headers too large',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', message: 'Request timeout' },
};
const BAD_REQUEST = { status: 400, reason: 'Bad Request', message: 'Bad request' };

/** A complete HTTP/1.1 answer with the documented JSON error body, closing the connection. */
function rawErrorResponse({ status, reason, message }: typeof BAD_REQUEST): string {
  const body = JSON.stringify({ error: message });
  return [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Limits for the HTTP server in front of the app:
 * - at most `maxConnections` open connections; more are closed as they arrive;
 * - a request's headers must arrive within `headersTimeoutMs`, the whole request (headers and
 *   body) within `requestTimeoutMs`. Neither limits how long a response takes, so event streams
 *   (a GET whose request is complete at once) run for hours;
 * - an idle kept-alive connection closes after `keepAliveTimeoutMs`;
 * - what Node refuses before the app sees it (malformed requests, headers over 16 KiB, the
 *   timeouts above) is answered with the documented JSON error body instead of an empty one.
 */
export function hardenHttpServer(server: Server, options: AppConfig['http']): void {
  const logger = new Logger('HTTP');
  server.maxConnections = options.maxConnections;
  server.headersTimeout = options.headersTimeoutMs;
  server.requestTimeout = options.requestTimeoutMs;
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  // Read when the server starts listening.
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval =
    TIMEOUT_CHECK_INTERVAL_MS;

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Write only where no answer has started on this connection, or it would corrupt that one.
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.write(rawErrorResponse(CLIENT_ERRORS[err.code ?? ''] ?? BAD_REQUEST));
    socket.end();
    // Whatever the client still sends is not read: close once the answer is out.
    socket.once('finish', () => socket.destroy());
  });

  let lastDropWarning = 0;
  server.on('drop', () => {
    const now = Date.now();
    if (now - lastDropWarning < DROP_WARNING_INTERVAL_MS) return;
    lastDropWarning = now;
    logger.warn(`Refusing new connections: ${options.maxConnections} are open (MAX_CONNECTIONS)`);
  });
}
