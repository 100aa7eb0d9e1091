import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { SimulatedOptionsError, parseSimulatedOptions } from '../activities/simulated-options';
import type { Principal } from '../auth/principal';
import { InvalidInputError } from '../common/domain-error';
import { KeyedSerializer } from '../common/keyed-serializer';
import { TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import {
  ControlRequest,
  PAUSE_SIGNAL,
  RESUME_SIGNAL,
  TaskInput,
  taskStartRecord,
} from '../workflows/contract';
import { MAX_CONTEXT_BYTES, SubmitTaskDto } from './dto/submit-task.dto';
import {
  IdempotencyConflictError,
  TaskAlreadyTerminalError,
  TaskNotFoundError,
  TaskStateConflictError,
} from './errors';
import { TERMINAL_WORDS } from './task-status';
import { SnapshotCache } from './snapshot-cache';
import { TaskSnapshot, readTaskHistory } from './task-history';
import type { TaskEvent } from './task-event';

export interface SubmittedTask {
  taskId: string;
  sessionId: string;
  createdAt: Date;
}

const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const DEFAULT_MODE = 'standard';

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A UUID-shaped task ID derived from tenant and key: the same pair always names one workflow. */
function idempotentTaskId(tenantId: string, key: string): string {
  const h = sha256Hex(`${tenantId}\n${key}`);
  return `task_${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function validateContext(context: Record<string, unknown>): void {
  if (Buffer.byteLength(JSON.stringify(context), 'utf8') > MAX_CONTEXT_BYTES) {
    throw new InvalidInputError('context must be at most 64 KiB as JSON');
  }
  try {
    parseSimulatedOptions(context);
  } catch (err) {
    if (err instanceof SimulatedOptionsError) throw new InvalidInputError(err.message);
    throw err;
  }
}

/**
 * Task rules on top of the workflow gateway. Every decision reads the task's workflow history,
 * so it sees each control signal the moment Temporal accepted it, worker or no worker.
 */
@Injectable()
export class TasksService {
  /** Check-then-signal on one task runs one at a time in this process. */
  private readonly serial = new KeyedSerializer();
  private readonly snapshots = new SnapshotCache();

  constructor(private readonly workflows: TaskWorkflowGateway) {}

  async submit(
    principal: Principal,
    request: SubmitTaskDto,
    idempotencyKey?: string,
  ): Promise<SubmittedTask> {
    const context = request.context ?? {};
    validateContext(context);
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
      throw new InvalidInputError(
        'Invalid Idempotency-Key header: use 1 to 255 visible ASCII characters',
      );
    }
    const requestHash = sha256Hex(
      JSON.stringify([
        request.query,
        request.session_id,
        context,
        request.mode,
        request.model_tier,
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
    };
    const started = await this.workflows.start(taskId, input, taskStartRecord(input, requestHash));
    if (started) return { taskId, sessionId, createdAt: new Date() };

    // A random UUID never collides; a derived ID exists when the key was used before (or by a
    // racing request): the same request gets the same task, another request a 422.
    if (idempotencyKey === undefined) throw new Error(`Generated task ID ${taskId} exists`);
    const existing = await this.find(principal, taskId);
    if (existing.requestHash !== requestHash) throw new IdempotencyConflictError();
    return { taskId, sessionId: existing.sessionId, createdAt: existing.createdAt };
  }

  pause(principal: Principal, taskId: string, reason = ''): Promise<void> {
    return this.signal(
      principal,
      taskId,
      (task) => {
        if (task.terminal) return `cannot pause ${TERMINAL_WORDS[task.terminal]} task`;
        if (task.control.is_cancelled) return 'cannot pause cancelled task';
        if (task.control.is_paused) return 'task is already paused';
        return undefined;
      },
      (request) => this.workflows.signal(taskId, PAUSE_SIGNAL, request),
      reason,
    );
  }

  resume(principal: Principal, taskId: string, reason = ''): Promise<void> {
    return this.signal(
      principal,
      taskId,
      (task) => {
        if (task.terminal) return `cannot resume ${TERMINAL_WORDS[task.terminal]} task`;
        if (task.control.is_cancelled) return 'cannot resume cancelled task';
        if (!task.control.is_paused) return 'task is not paused';
        return undefined;
      },
      (request) => this.workflows.signal(taskId, RESUME_SIGNAL, request),
      reason,
    );
  }

  /** Accepted again while the task is still closing; a closed task is a 409. */
  cancel(principal: Principal, taskId: string, reason = ''): Promise<void> {
    return this.serial.run(taskId, async () => {
      const task = await this.find(principal, taskId);
      if (task.terminal) throw new TaskAlreadyTerminalError(task.terminal);
      const request = task.control.is_cancelled
        ? undefined
        : { reason, requested_by: principal.userId };
      await this.closedRace(
        principal,
        taskId,
        () => this.workflows.cancel(taskId, request),
        (t) => {
          if (t.terminal) throw new TaskAlreadyTerminalError(t.terminal);
        },
      );
    });
  }

  private signal(
    principal: Principal,
    taskId: string,
    conflict: (task: TaskSnapshot) => string | undefined,
    send: (request: ControlRequest) => Promise<void>,
    reason: string,
  ): Promise<void> {
    const check = (task: TaskSnapshot): void => {
      const message = conflict(task);
      if (message) throw new TaskStateConflictError(message);
    };
    return this.serial.run(taskId, async () => {
      check(await this.find(principal, taskId));
      await this.closedRace(
        principal,
        taskId,
        () => send({ reason, requested_by: principal.userId }),
        check,
      );
    });
  }

  /**
   * Temporal answers "not found" to a signal or cancel when the workflow closed after our check.
   * Read it again so the caller hears the documented conflict instead of a false 404.
   */
  private async closedRace(
    principal: Principal,
    taskId: string,
    action: () => Promise<void>,
    check: (task: TaskSnapshot) => void,
  ): Promise<void> {
    try {
      await action();
    } catch (err) {
      if (err instanceof TaskNotFoundError) check(await this.find(principal, taskId));
      throw err;
    }
  }

  /**
   * The task as it stands, for reads that decide nothing: one describe call when this instance
   * has folded the same version of its history before, that and the history otherwise.
   */
  async latest(principal: Principal, taskId: string): Promise<TaskSnapshot> {
    const version = await this.workflows.version(taskId);
    let task = this.snapshots.get(taskId, version);
    if (!task) {
      const history = await this.workflows.history(taskId, version.runId);
      task = readTaskHistory(taskId, history)?.task;
      const length = Number(history.at(-1)?.eventId ?? 0);
      if (task) this.snapshots.set(taskId, version.runId, length, task);
    }
    if (task?.tenantId !== principal.tenantId) throw new TaskNotFoundError();
    return task;
  }

  /** The task as its whole history tells it now; another tenant's task does not exist. */
  async find(principal: Principal, taskId: string): Promise<TaskSnapshot> {
    return (await this.read(principal, taskId)).task;
  }

  /** Every event of the task so far, oldest first. */
  async events(principal: Principal, taskId: string): Promise<TaskEvent[]> {
    return (await this.read(principal, taskId)).events;
  }

  private async read(
    principal: Principal,
    taskId: string,
  ): Promise<{ task: TaskSnapshot; events: TaskEvent[] }> {
    const history = readTaskHistory(taskId, await this.workflows.history(taskId));
    if (!history || history.task.tenantId !== principal.tenantId) throw new TaskNotFoundError();
    return history;
  }
}
