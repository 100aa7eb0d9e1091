/**
 * Workflow interceptors: the trace context the workflow was started with (a `traceparent`
 * header) goes on to every activity it schedules, so the workflow and its activities share the
 * trace of the request that submitted the task.
 */
import type {
  ActivityInput,
  Next,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import type { Payload } from '@temporalio/common';
import { TRACEPARENT_HEADER } from './contract';

export const interceptors = (): WorkflowInterceptors => {
  let traceparent: Payload | undefined;
  const inbound: WorkflowInboundCallsInterceptor = {
    execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
      traceparent = input.headers[TRACEPARENT_HEADER];
      return next(input);
    },
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity(
      input: ActivityInput,
      next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>,
    ) {
      if (!traceparent) return next(input);
      return next({ ...input, headers: { ...input.headers, [TRACEPARENT_HEADER]: traceparent } });
    },
  };
  return { inbound: [inbound], outbound: [outbound] };
};
