import type { Principal } from '../auth/principal';
import { InvalidInputError } from '../common/domain-error';
import { HttpErrorFilter } from '../common/http-error.filter';
import type { TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import type { BatchInput } from '../workflows/batch-contract';
import { batchQuery } from './batch-filter';
import { BatchesService, MAX_BATCH_TASKS } from './batches.service';

const alice: Principal = {
  tenantId: 'acme',
  userId: 'alice',
  keyName: 'acme-writer',
  scopes: ['tasks:write'],
};
const filter = { sessionId: 'nightly' };

/** A service over a visibility store holding `matching` tasks that match any query. */
function service(matching: number) {
  const asked: { query: string; max: number }[] = [];
  const started: BatchInput[] = [];
  const workflows = {
    workflowIds: (query: string, max: number) => {
      asked.push({ query, max });
      const n = Math.min(matching, max);
      return Promise.resolve(Array.from({ length: n }, (_, i) => `task_${i}`));
    },
    startBatch: (_batchId: string, input: BatchInput) => {
      started.push(input);
      return Promise.resolve();
    },
  } as unknown as TaskWorkflowGateway;
  return { batches: new BatchesService(workflows), asked, started };
}

describe('BatchesService.start', () => {
  it(`refuses a filter matching more than ${MAX_BATCH_TASKS} tasks with a 400 naming the limit, and starts nothing`, async () => {
    const { batches, asked, started } = service(MAX_BATCH_TASKS + 5);

    const refusal = await batches
      .start(alice, { action: 'pause', filter, reason: '' })
      .catch((err: unknown) => err);

    const message =
      'The filter matches more than 10000 tasks, the most one batch acts on: narrow it';
    expect(refusal).toEqual(new InvalidInputError(message));
    expect(refusal).toBeInstanceOf(InvalidInputError);
    expect(new HttpErrorFilter().toResponse(refusal)).toEqual({
      status: 400,
      body: { error: message },
    });
    // One more than the limit is all it reads to know.
    expect(asked).toEqual([{ query: batchQuery('acme', filter), max: MAX_BATCH_TASKS + 1 }]);
    expect(started).toEqual([]);
  });

  it(`starts a batch on exactly ${MAX_BATCH_TASKS} tasks`, async () => {
    const { batches, started } = service(MAX_BATCH_TASKS);

    const { matched } = await batches.start(alice, { action: 'pause', filter, reason: 'r' });

    expect(matched).toBe(MAX_BATCH_TASKS);
    expect(started).toHaveLength(1);
    expect(started[0].task_ids).toHaveLength(MAX_BATCH_TASKS);
    expect([started[0].tenant_id, started[0].action, started[0].actor]).toEqual([
      'acme',
      'pause',
      'alice',
    ]);
  });
});
