import type { TaskSnapshot } from '../tasks/task-history';
import { initialControlState } from '../workflows/contract';

/** A running task's snapshot as unit specs need one, with `change` applied. */
export const taskSnapshot = (change: Partial<TaskSnapshot> = {}): TaskSnapshot => ({
  taskId: 'task-1',
  runId: 'run-1',
  tenantId: 't',
  userId: 'u',
  sessionId: 's',
  query: 'q',
  mode: 'standard',
  context: {},
  requestHash: '',
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:01Z'),
  started: true,
  control: initialControlState(),
  result: '',
  error: '',
  ...change,
});
