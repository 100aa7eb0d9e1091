import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { createServer } from 'node:net';
import { ChannelGuard } from './channel-guard';

/** A port nothing listens on: every call fails UNAVAILABLE and is retried. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ChannelGuard', () => {
  it('ends a call whose retry falls due after the connection closed, instead of throwing from its timer', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    // Jest would fail the whole file on an uncaught exception: record it instead.
    process.prependListener('uncaughtException', onUncaught);
    // Resolves when the first attempt has failed: the retry interceptor then waits on its timer.
    let firstAttemptFailed!: () => void;
    const waiting = new Promise<void>((resolve) => (firstAttemptFailed = resolve));
    const attempts: Interceptor = (options, nextCall) =>
      new InterceptingCall(nextCall(options), {
        start: (metadata, listener, next) =>
          next(metadata, {
            onReceiveStatus: (status, nextStatus) => {
              firstAttemptFailed();
              nextStatus(status);
            },
          }),
      });
    const guard = new ChannelGuard();
    const connection = Connection.lazy({
      address: `127.0.0.1:${await deadPort()}`,
      interceptors: [
        makeGrpcRetryInterceptor(
          defaultGrpcRetryOptions({ maxAttempts: 4, initialIntervalMs: () => 500 }),
        ),
        attempts,
        guard.interceptor,
      ],
    });
    try {
      const call = connection.workflowService.getSystemInfo({});
      await waiting;
      guard.close();
      await connection.close();

      // The retry came due on the closed connection and ended the call; nothing was thrown.
      await expect(call).rejects.toMatchObject({ code: 1 }); // CANCELLED
      expect(uncaught).toEqual([]);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
  }, 10_000);
});
