import type {
  Next,
  WorkflowClientInterceptor,
  WorkflowSignalInput,
  WorkflowStartInput,
} from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { currentRequest, formatTraceparent } from '../common/request-context';
import { TRACEPARENT_HEADER } from '../workflows/contract';

/** Headers of a Temporal call made while serving a request: its trace, continued. */
function withTrace<T extends { headers: Record<string, unknown> }>(input: T): T {
  const request = currentRequest();
  if (!request) return input;
  return {
    ...input,
    headers: {
      ...input.headers,
      [TRACEPARENT_HEADER]: defaultPayloadConverter.toPayload(formatTraceparent(request.trace)),
    },
  };
}

/** Carries the request's W3C trace context into workflow starts and signals. */
export class TraceClientInterceptor implements WorkflowClientInterceptor {
  start(
    input: WorkflowStartInput,
    next: Next<WorkflowClientInterceptor, 'start'>,
  ): Promise<string> {
    return next(withTrace(input));
  }

  startWithDetails(
    input: WorkflowStartInput,
    next: Next<WorkflowClientInterceptor, 'startWithDetails'>,
  ): ReturnType<Next<WorkflowClientInterceptor, 'startWithDetails'>> {
    return next(withTrace(input));
  }

  signal(
    input: WorkflowSignalInput,
    next: Next<WorkflowClientInterceptor, 'signal'>,
  ): Promise<void> {
    return next(withTrace(input));
  }
}
