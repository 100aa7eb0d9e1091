import { taskSnapshot } from '../testing/task-snapshot';
import type { Principal } from '../auth/principal';
import { InvalidInputError } from '../common/domain-error';
import type { TaskVisibility, VisibilityPage, VisibleTask } from '../temporal/task-visibility';
import { TaskNotFoundError } from './errors';
import { encodeCursor } from './list-cursor';
import type { TaskSnapshot } from './task-history';
import { TaskListService, formatNanos } from './task-list.service';
import type { TasksService } from './tasks.service';

const acme: Principal = { tenantId: 'acme', userId: 'u', keyName: 'k', scopes: ['tasks:read'] };
const ms = (n: number): bigint => BigInt(n) * 1_000_000n;

const visible = (taskId: string, atMs: number, change: Partial<VisibleTask> = {}): VisibleTask => ({
  taskId,
  executionTimeNs: ms(atMs),
  startTime: new Date(atMs),
  status: 'RUNNING',
  open: true,
  query: `query of ${taskId}`,
  mode: 'standard',
  ...change,
});

/** Visibility and GET's reads, stubbed; what the service asked for is recorded. */
function service(
  tasks: VisibleTask[],
  snapshots: Record<string, TaskSnapshot | Error>,
  count = tasks.length,
) {
  const queries: string[] = [];
  const read: string[] = [];
  const visibility = {
    page: (query: string): Promise<VisibilityPage> => {
      queries.push(query);
      return Promise.resolve({ tasks: query.includes('!=') ? [] : tasks });
    },
    count: (query: string): Promise<number> => {
      queries.push(`count: ${query}`);
      return Promise.resolve(count);
    },
  };
  const reads = {
    get: (_: Principal, taskId: string): Promise<TaskSnapshot> => {
      read.push(taskId);
      const snapshot = snapshots[taskId];
      return snapshot instanceof Error ? Promise.reject(snapshot) : Promise.resolve(snapshot);
    },
  };
  const list = new TaskListService(
    visibility as unknown as TaskVisibility,
    reads as unknown as TasksService,
  );
  return { list, queries, read };
}

describe('TaskListService', () => {
  it('asks visibility for the tenant, the session and what the workflow recorded', async () => {
    const { list, queries } = service([], {});

    await list.list(acme, {
      status: 'TASK_STATUS_PAUSED',
      sessionId: 's-1',
      limit: 20,
      offset: 0,
    });

    const filter =
      "WorkflowType = 'taskWorkflow' AND TenantId = 'acme' AND SessionId = 's-1' AND " +
      "(ExecutionStatus = 'Running' AND TaskStatus = 'PAUSED')";
    expect(queries).toEqual([`count: ${filter}`, filter]);
  });

  it('lists open tasks as GET reads them, closed ones as visibility recorded them', async () => {
    const closedAt = new Date(5_000);
    const { list, read } = service(
      [
        visible('task_open', 3_000, { recordedStatus: undefined }),
        visible('task_done', 2_000, { status: 'COMPLETED', open: false, closeTime: closedAt }),
        visible('task_closing', 1_000, { recordedStatus: 'RUNNING' }),
      ],
      {
        task_open: taskSnapshot({ started: false, control: { ...paused } }),
        task_closing: taskSnapshot({ terminal: 'FAILED', closedAt: new Date(4_000) }),
      },
    );

    const page = await list.list(acme, { limit: 20, offset: 0 });

    expect(read.sort()).toEqual(['task_closing', 'task_open']);
    expect(page).toEqual({
      tasks: [
        {
          taskId: 'task_open',
          query: 'query of task_open',
          mode: 'standard',
          status: 'TASK_STATUS_PAUSED',
          createdAt: new Date(3_000),
          closedAt: undefined,
        },
        {
          taskId: 'task_done',
          query: 'query of task_done',
          mode: 'standard',
          status: 'TASK_STATUS_COMPLETED',
          createdAt: new Date(2_000),
          closedAt,
        },
        {
          taskId: 'task_closing',
          query: 'query of task_closing',
          mode: 'standard',
          status: 'TASK_STATUS_FAILED',
          createdAt: new Date(1_000),
          closedAt: new Date(4_000),
        },
      ],
      totalCount: 3,
      nextCursor: undefined,
    });
  });

  it('lists a task gone since visibility listed it as visibility knew it', async () => {
    const { list } = service([visible('task_gone', 1_000, { recordedStatus: 'PAUSED' })], {
      task_gone: new TaskNotFoundError(),
    });

    const page = await list.list(acme, { limit: 20, offset: 0 });

    expect(page.tasks.map((t) => t.status)).toEqual(['TASK_STATUS_PAUSED']);
  });

  it('answers an offset past the end from the count alone', async () => {
    const { list, queries } = service([visible('task_a', 1_000)], {}, 1);

    expect(await list.list(acme, { limit: 20, offset: 1 })).toEqual({ tasks: [], totalCount: 1 });
    expect(queries).toHaveLength(1);
  });

  it('continues after the cursor with a window below its position', async () => {
    const { list, queries } = service([], {});
    const cursor = encodeCursor({
      tenantId: 'acme',
      filters: {},
      after: { at: ms(10_000), taskId: 'task_x' },
      hintNs: ms(500),
    });

    await list.list(acme, { limit: 20, offset: 0, cursor });

    expect(queries[1]).toBe(
      "WorkflowType = 'taskWorkflow' AND TenantId = 'acme' AND " +
        `ExecutionTime >= '${formatNanos(ms(9_500))}' AND ` +
        `ExecutionTime <= '${formatNanos(ms(10_000))}'`,
    );
  });

  it.each([
    ['of another tenant', { tenantId: 'globex', filters: {} }, {}, 'Invalid cursor parameter'],
    [
      'for other filters',
      { tenantId: 'acme', filters: { sessionId: 's-1' } },
      { sessionId: 's-2' },
      'Invalid cursor parameter: use the status and session_id of the page that returned it',
    ],
  ])('refuses a cursor %s', async (_, issued, request, message) => {
    const { list, queries } = service([], {});
    const cursor = encodeCursor({ ...issued, after: { at: 1n, taskId: 'task_x' } });

    await expect(list.list(acme, { limit: 20, offset: 0, cursor, ...request })).rejects.toThrow(
      new InvalidInputError(message),
    );
    expect(queries).toEqual([]);
  });
});

describe('formatNanos', () => {
  it('writes RFC 3339 with nanoseconds', () => {
    expect(formatNanos(1_795_966_733_115_214_001n)).toBe('2026-11-29T15:38:53.115214001Z');
    expect(formatNanos(0n)).toBe('1970-01-01T00:00:00.000000000Z');
  });
});

const paused = {
  is_paused: true,
  is_cancelled: false,
  paused_at: '2026-01-01T00:00:02.000Z',
  pause_reason: '',
  paused_by: 'u',
  cancel_reason: '',
  cancelled_by: '',
  pause_deadline: '',
  on_timeout: '' as const,
  version: 1,
  was_paused: false,
};
