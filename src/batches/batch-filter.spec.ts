import { batchQuery } from './batch-filter';

describe('batchQuery', () => {
  it("is always confined to the caller's tenant and task workflows", () => {
    expect(batchQuery('acme', { sessionId: 's-1' })).toBe(
      "WorkflowType = 'taskWorkflow' AND TenantId = 'acme' AND SessionId = 's-1'",
    );
  });

  it('joins every condition given', () => {
    expect(
      batchQuery('acme', {
        status: 'TASK_STATUS_PAUSED',
        createdAfter: new Date('2026-01-01T00:00:00Z'),
        createdBefore: new Date('2026-02-01T00:00:00.5Z'),
        taskIds: ['task_a', 'task_b'],
      }),
    ).toBe(
      "WorkflowType = 'taskWorkflow' AND TenantId = 'acme' AND " +
        "(ExecutionStatus = 'Running' AND TaskStatus = 'PAUSED') AND " +
        "ExecutionTime >= '2026-01-01T00:00:00.000Z' AND ExecutionTime < '2026-02-01T00:00:00.500Z' AND " +
        "WorkflowId IN ('task_a', 'task_b')",
    );
  });
});
