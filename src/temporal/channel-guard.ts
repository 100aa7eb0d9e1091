import { Injectable } from '@nestjs/common';
import {
  InterceptingCall,
  Metadata,
  status,
  type Interceptor,
  type NextCall,
  type InterceptingListener,
} from '@grpc/grpc-js';

/** What the next interceptor (or the channel) answers with: a call. */
type Call = ReturnType<NextCall>;

/** A call that never reaches the channel: it ends CANCELLED as soon as it starts. */
const closedCall = (): Call => ({
  start: (_metadata, listener?: Partial<InterceptingListener>) => {
    setImmediate(() =>
      listener?.onReceiveStatus?.({
        code: status.CANCELLED,
        details: 'The Temporal connection is closed',
        metadata: new Metadata(),
      }),
    );
  },
  cancelWithStatus: () => undefined,
  getPeer: () => '',
  sendMessageWithContext: () => undefined,
  sendMessage: () => undefined,
  startRead: () => undefined,
  halfClose: () => undefined,
  getAuthContext: () => null,
});

/**
 * Keeps a closed Temporal connection from being called. The SDK's retry interceptor waits
 * between attempts on a timer that nothing cancels: an attempt due after the connection closed
 * (a shutdown while Temporal was down or refusing calls for load) would throw "Channel has been
 * shut down" from that timer, an uncaught exception that ends the process. Placed inside the
 * retry interceptor, this answers such an attempt CANCELLED instead, which ends the call like
 * any other failure.
 */
@Injectable()
export class ChannelGuard {
  private closed = false;

  /** Call before closing the connection. */
  close(): void {
    this.closed = true;
  }

  readonly interceptor: Interceptor = (options, nextCall: NextCall) => {
    const call: Call = this.closed ? closedCall() : nextCall(options);
    return new InterceptingCall(call);
  };
}
