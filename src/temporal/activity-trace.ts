import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { defaultPayloadConverter } from '@temporalio/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { parseTraceparent } from '../common/request-context';
import { TRACEPARENT_HEADER } from '../workflows/contract';

const storage = new AsyncLocalStorage<string | undefined>();

/**
 * Activity interceptor: the `traceparent` header the workflow passes on to each activity (the
 * trace of the request that submitted the task) becomes readable by the running call.
 */
export const activityTraceInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: {
    execute(input, next) {
      const header = input.headers[TRACEPARENT_HEADER];
      const value: unknown = header ? defaultPayloadConverter.fromPayload(header) : undefined;
      const trace = typeof value === 'string' ? parseTraceparent(value) : undefined;
      return storage.run(trace ? (value as string) : undefined, () => next(input));
    },
  },
});

/** The running activity's trace context, when its task was submitted with one. */
export const currentTraceparent = (): string | undefined => storage.getStore();
