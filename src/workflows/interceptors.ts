/**
 * Workflow interceptors: the trace context the workflow was started with (a `traceparent`
 * header) goes on to every activity it schedules, so the workflow and its activities share the
 * trace of the request that submitted the task; every activation that changed something
 * sends a change notice for event streams (see TaskNoticeSinks); and the task workflow's
 * records get their counts of task events once its activation's signals are all handled (see
 * TaskEventCount).
 */
import {
  proxySinks,
  type ActivityInput,
  type ConcludeActivationInput,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import type { Payload } from '@temporalio/common';
import { TRACEPARENT_HEADER, type TaskNoticeSinks } from './contract';
import { concludeTaskEventCount } from './task-event-count';

const { taskNotices } = proxySinks<TaskNoticeSinks>();

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
  const internals: WorkflowInternalsInterceptor = {
    concludeActivation(
      input: ConcludeActivationInput,
      next: Next<WorkflowInternalsInterceptor, 'concludeActivation'>,
    ) {
      // The task workflow's records get their final counts of task events.
      concludeTaskEventCount(input.commands);
      if (input.commands.length > 0) taskNotices.changed();
      return next(input);
    },
  };
  return { inbound: [inbound], outbound: [outbound], internals: [internals] };
};
