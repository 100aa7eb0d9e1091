import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal';
import { InvalidInputError, type DomainError } from '../common/domain-error';
import { canonicalJson } from '../common/canonical-json';
import { currentRequest } from '../common/request-context';
import { TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import {
  ActionOrigin,
  CANCEL_SIGNAL,
  ControlRequest,
  ControlSignalName,
  OnTimeout,
  PAUSE_SIGNAL,
  RESUME_SIGNAL,
  TaskInput,
  applyControlSignal,
  taskStartRecord,
} from '../workflows/contract';
import { AppConfig } from '../config/app-config';
import { WebhookTargetError, checkWebhookTarget } from '../common/webhook-target';
import type { WebhookSpec } from '../workflows/webhook-contract';
import type { ApprovalSpec } from '../workflows/approval-contract';
import type { ApprovalGateDto } from './dto/approval-gate.dto';
import { DecisionLedger, RecentDecision } from './decision-ledger';
import { DEFAULT_WEBHOOK_EVENTS, type SubmitTaskDto, type WebhookDto } from './dto/submit-task.dto';
import {
  IdempotencyConflictError,
  TaskAlreadyTerminalError,
  TaskChangedError,
  TaskNotFoundError,
  TaskStateConflictError,
} from './errors';
import { TaskHistoryFold, TaskSnapshot } from './task-history';
import { eventsFromTheEnd, nearerTheEnd } from './task-event-page';
import type { TaskAction } from './task-action';
import { TASK_EVENT_TYPES, type TaskEvent } from './task-event';
import { EntityTagCondition, ifMatchHolds, taskEtag } from './task-etag';
import { TaskChanges } from './task-changes';
import { TaskReader } from './task-reader';

export interface SubmittedTask {
  taskId: string;
  sessionId: string;
  createdAt: Date;
}

const DEFAULT_MODE = 'standard';

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A UUID-shaped task ID derived from tenant and key: the same pair always names one workflow. */
function idempotentTaskId(tenantId: string, key: string): string {
  const h = sha256Hex(`${tenantId}\n${key}`);
  return `task_${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Submitted approval gates as the task keeps them: checkpoints once each, defaults resolved. */
function approvalSpec(gate: ApprovalGateDto): ApprovalSpec {
  return {
    checkpoints: [...new Set(gate.checkpoints)],
    ...(gate.timeout_seconds !== undefined && { timeout_seconds: gate.timeout_seconds }),
    on_timeout: gate.on_timeout ?? 'reject',
  };
}

export type ControlAction = 'pause' | 'resume' | 'cancel';

/**
 * Why a task's state refuses an action, as the documented error; undefined when it allows it.
 * A cancel is accepted again while the task is still closing.
 */
const REFUSALS: Record<ControlAction, (task: TaskSnapshot) => DomainError | undefined> = {
  pause: (task) => {
    if (task.terminal) return TaskStateConflictError.closed('pause', task.terminal);
    if (task.control.is_cancelled) return TaskStateConflictError.cancelled('pause');
    if (task.control.is_paused) return TaskStateConflictError.alreadyPaused();
    return undefined;
  },
  resume: (task) => {
    if (task.terminal) return TaskStateConflictError.closed('resume', task.terminal);
    if (task.control.is_cancelled) return TaskStateConflictError.cancelled('resume');
    if (!task.control.is_paused) return TaskStateConflictError.notPaused();
    return undefined;
  },
  cancel: (task) => (task.terminal ? new TaskAlreadyTerminalError(task.terminal) : undefined),
};

function refuseIfNotAllowed(action: ControlAction, task: TaskSnapshot): void {
  const refusal = REFUSALS[action](task);
  if (refusal) throw refusal;
}

const SIGNALS: Record<'pause' | 'resume', ControlSignalName> = {
  pause: PAUSE_SIGNAL,
  resume: RESUME_SIGNAL,
};

/** How a pause, resume or cancel is asked for. */
export interface ControlOptions {
  reason?: string;
  /** `If-Match`: decide only while the task's ETag satisfies it. */
  ifMatch?: EntityTagCondition;
  /** Set when the action is one task of a batch (recorded with it). */
  batchId?: string;
}

export interface PauseOptions extends ControlOptions {
  /** A deadline: the pause ends by `onTimeout` this long after it is accepted. */
  timeoutSeconds?: number;
  onTimeout?: OnTimeout;
}

/** What a decision did. */
export interface ControlOutcome {
  /** The task's ETag in the state the decision leads to. */
  etag: string;
  /** False when nothing new was sent: a cancel of a task already being cancelled. */
  sent: boolean;
}

/** Who made the current request, for the audit trail: key name, request id and trace id. */
export function requestOrigin(principal: Principal, batchId?: string): ActionOrigin {
  const request = currentRequest();
  return {
    key_name: principal.keyName,
    request_id: request?.requestId ?? '',
    trace_id: request?.trace.traceId ?? '',
    ...(batchId !== undefined && { batch_id: batchId }),
  };
}

/**
 * Task rules on top of the workflow gateway. Reads and decisions cost the same few Temporal
 * calls whatever a task's history holds (see TaskReader); each decision (check the state, then
 * signal) runs alone on its task across every instance sharing the decision ledger, and is
 * recorded there until Temporal shows it.
 */
@Injectable()
export class TasksService {
  constructor(
    private readonly workflows: TaskWorkflowGateway,
    private readonly reader: TaskReader,
    private readonly ledger: DecisionLedger,
    private readonly changes: TaskChanges,
    private readonly config: AppConfig,
  ) {}

  /** `request` and `idempotencyKey` as checked at the edge (SubmitTaskPipe, idempotencyKeyOf). */
  async submit(
    principal: Principal,
    request: SubmitTaskDto,
    idempotencyKey?: string,
  ): Promise<SubmittedTask> {
    const context = request.context ?? {};
    // The webhook's target is checked here, not at the edge: it needs the configuration and
    // a DNS lookup of the host.
    const webhook = request.webhook && (await this.webhookSpec(request.webhook));
    const approval = request.approval && approvalSpec(request.approval);
    // What the request means, not how it is written: key order and spelled-out defaults aside.
    const requestHash = sha256Hex(
      canonicalJson([
        request.query,
        request.session_id,
        context,
        request.mode ?? DEFAULT_MODE,
        request.model_tier,
        // Only when given, so the hashes of requests without one stay what they were.
        ...(webhook || approval ? [webhook ?? null] : []),
        ...(approval ? [approval] : []),
      ]),
    );
    const taskId =
      idempotencyKey === undefined
        ? `task_${randomUUID()}`
        : idempotentTaskId(principal.tenantId, idempotencyKey);
    const sessionId = request.session_id ?? randomUUID();
    const mode = request.mode ?? DEFAULT_MODE;
    const input: TaskInput = {
      query: request.query,
      session_id: sessionId,
      tenant_id: principal.tenantId,
      user_id: principal.userId,
      mode,
      model_tier: request.model_tier,
      context,
      ...(webhook && { webhook }),
      ...(approval && { approval }),
    };
    const started = await this.workflows.start(
      taskId,
      input,
      taskStartRecord(input, requestHash, requestOrigin(principal)),
    );
    if (started) {
      // Temporal's start time, as GET, the list and an idempotent replay answer it: the start
      // call does not return it, so one describe call asks.
      return { taskId, sessionId, createdAt: (await this.workflows.describe(taskId)).startTime };
    }

    // A random UUID never collides; a derived ID exists when the key was used before (or by a
    // racing request): the same request gets the same task, another request a 422.
    if (idempotencyKey === undefined) throw new Error(`Generated task ID ${taskId} exists`);
    const existing = await this.reader.current(principal, taskId);
    if (existing.requestHash !== requestHash) throw new IdempotencyConflictError();
    return { taskId, sessionId: existing.sessionId, createdAt: existing.createdAt };
  }

  async pause(
    principal: Principal,
    taskId: string,
    options: PauseOptions = {},
  ): Promise<ControlOutcome> {
    const outcome = await this.signal(principal, taskId, 'pause', options);
    this.changes.notify(taskId);
    return outcome;
  }

  async resume(
    principal: Principal,
    taskId: string,
    options: ControlOptions = {},
  ): Promise<ControlOutcome> {
    const outcome = await this.signal(principal, taskId, 'resume', options);
    this.changes.notify(taskId);
    return outcome;
  }

  /** Accepted again while the task is still closing; a closed task is a 409. */
  async cancel(
    principal: Principal,
    taskId: string,
    options: ControlOptions = {},
  ): Promise<ControlOutcome> {
    const outcome = await this.ledger.exclusive(
      taskId,
      async (recent): Promise<[ControlOutcome, RecentDecision?]> => {
        const task = await this.reader.forDecision(principal, taskId, recent);
        checkIfMatch(task, options.ifMatch);
        refuseIfNotAllowed('cancel', task);
        if (task.control.is_cancelled) {
          // Still closing: ask Temporal again, which changes nothing if it was asked before.
          await this.unlessClosed(principal, taskId, 'cancel', () =>
            this.workflows.cancel(taskId, undefined),
          );
          return [{ etag: taskEtag(task), sent: false }];
        }
        const request = this.controlRequest(principal, options);
        await this.unlessClosed(principal, taskId, 'cancel', () =>
          this.workflows.cancel(taskId, request),
        );
        return decision(task, CANCEL_SIGNAL, request);
      },
    );
    this.changes.notify(taskId);
    return outcome;
  }

  /** Pause, resume or cancel, as a batch applies them (no deadline, no If-Match). */
  control(
    principal: Principal,
    taskId: string,
    action: ControlAction,
    options: ControlOptions,
  ): Promise<ControlOutcome> {
    switch (action) {
      case 'pause':
        return this.pause(principal, taskId, options);
      case 'resume':
        return this.resume(principal, taskId, options);
      case 'cancel':
        return this.cancel(principal, taskId, options);
    }
  }

  /**
   * A submitted webhook as the task keeps it: its target checked (public addresses only unless
   * allowed) and its event types resolved, in the order of the event list.
   */
  private async webhookSpec(webhook: WebhookDto): Promise<WebhookSpec> {
    const { secret, allowPrivate } = this.config.webhooks;
    if (!secret) {
      throw new InvalidInputError(
        'webhook cannot be used: this service has no WEBHOOK_SECRET to sign deliveries with',
      );
    }
    try {
      await checkWebhookTarget(webhook.url, allowPrivate);
    } catch (err) {
      if (err instanceof WebhookTargetError) throw new InvalidInputError(err.message);
      throw err;
    }
    const wanted = new Set<string>(webhook.events ?? DEFAULT_WEBHOOK_EVENTS);
    return { url: webhook.url, events: TASK_EVENT_TYPES.filter((type) => wanted.has(type)) };
  }

  /** The task as it stands, for reads: status and control-state. */
  get(principal: Principal, taskId: string): Promise<TaskSnapshot> {
    return this.reader.current(principal, taskId);
  }

  private signal(
    principal: Principal,
    taskId: string,
    action: 'pause' | 'resume',
    options: PauseOptions,
  ): Promise<ControlOutcome> {
    return this.ledger.exclusive(taskId, async (recent) => {
      const task = await this.reader.forDecision(principal, taskId, recent);
      // Inside the exclusive section: of two requests with the same If-Match, across every
      // instance sharing the ledger, the second sees the first one's state and its new tag.
      checkIfMatch(task, options.ifMatch);
      refuseIfNotAllowed(action, task);
      const request = this.controlRequest(principal, options);
      if (action === 'pause' && options.timeoutSeconds !== undefined) {
        request.timeout_seconds = options.timeoutSeconds;
        request.on_timeout = options.onTimeout ?? 'resume';
      }
      await this.unlessClosed(principal, taskId, action, () =>
        this.workflows.signal(taskId, SIGNALS[action], request),
      );
      return decision(task, SIGNALS[action], request);
    });
  }

  /** The signal's payload: who, why, and the request it came with (the audit trail). */
  private controlRequest(principal: Principal, options: ControlOptions): ControlRequest {
    return {
      reason: options.reason ?? '',
      requested_by: principal.userId,
      requested_at: new Date().toISOString(),
      ...requestOrigin(principal, options.batchId),
    };
  }

  /**
   * Temporal answers "not found" to a signal or cancel when the workflow closed after our check.
   * Read it again so the caller hears the documented conflict instead of a false 404.
   */
  private async unlessClosed(
    principal: Principal,
    taskId: string,
    action: ControlAction,
    send: () => Promise<void>,
  ): Promise<void> {
    try {
      await send();
    } catch (err) {
      if (err instanceof TaskNotFoundError) {
        refuseIfNotAllowed(action, await this.reader.current(principal, taskId));
      }
      throw err;
    }
  }

  /**
   * The task's events, oldest first, from `offset` on, at most `limit`. The history is read
   * from its nearer end (Temporal reads a history only forward from its first event or
   * backwards from its last): from the start only as far as those events reach, or from the
   * end back to the last record before them, when the workflow counts its task events in its
   * records (see eventsFromTheEnd) and they are nearer the end.
   */
  async events(
    principal: Principal,
    taskId: string,
    offset: number,
    limit: number,
  ): Promise<TaskEvent[]> {
    const task = await this.reader.current(principal, taskId);
    if (nearerTheEnd(task.taskEvents, offset, limit)) {
      return eventsFromTheEnd(this.workflows, task, offset, limit);
    }
    const { runId } = task;
    const fold = new TaskHistoryFold(taskId, runId);
    const events: TaskEvent[] = [];
    for await (const page of this.workflows.pages(taskId, runId)) {
      for (const event of page) {
        const taskEvent = fold.apply(event);
        if (taskEvent) events.push(taskEvent);
      }
      if (events.length >= offset + limit) break;
    }
    return events.slice(offset, offset + limit);
  }

  /**
   * The task's accepted actions (its audit trail), oldest first, from `offset` on, at most
   * `limit`. They are read from the history itself, from its start only as far as those
   * actions reach: the cost is the history up to the last action returned.
   */
  async actions(
    principal: Principal,
    taskId: string,
    offset: number,
    limit: number,
  ): Promise<TaskAction[]> {
    const { runId } = await this.reader.current(principal, taskId);
    const fold = new TaskHistoryFold(taskId, runId);
    const actions: TaskAction[] = [];
    fold.onAction = (action) => actions.push(action);
    for await (const page of this.workflows.pages(taskId, runId)) {
      for (const event of page) fold.apply(event);
      if (actions.length >= offset + limit) break;
    }
    return actions.slice(offset, offset + limit);
  }
}

/** `If-Match` that names no current tag of the task: nothing may be sent. */
function checkIfMatch(task: TaskSnapshot, condition: EntityTagCondition | undefined): void {
  if (condition === undefined) return;
  const etag = taskEtag(task);
  if (!ifMatchHolds(condition, etag)) throw new TaskChangedError(etag);
}

/** A decision once its signal is sent: what it answers, and the state to record. */
function decision(
  task: TaskSnapshot,
  signal: ControlSignalName,
  request: ControlRequest,
): [ControlOutcome, RecentDecision] {
  const decidedAt = request.requested_at!;
  const control = applyControlSignal(task.control, signal, request, new Date(decidedAt));
  return [
    { etag: taskEtag({ ...task, control }), sent: true },
    {
      runId: task.runId,
      control,
      decidedAt,
      // Carried along: a later decision must not hide an earlier one on an approval.
      ...(task.approvals && { approvals: task.approvals }),
    },
  ];
}
