import { initialControlState } from '../../workflows/contract';
import type { TaskSnapshot } from '../task-history';
import { toTaskStatusResponse } from './task-responses.dto';

const task = (change: Partial<TaskSnapshot>): TaskSnapshot => ({
  taskId: 'task-1',
  tenantId: 't',
  userId: 'u',
  sessionId: 's',
  query: 'q',
  mode: 'standard',
  context: {},
  requestHash: '',
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:01Z'),
  picked: true,
  control: initialControlState(),
  result: '',
  error: '',
  ...change,
});

describe('toTaskStatusResponse', () => {
  it('adds `response` only when the result is a JSON object', () => {
    const closedAt = new Date('2026-01-01T00:00:02Z');
    const json = toTaskStatusResponse(
      task({ terminal: 'COMPLETED', closedAt, result: '{"answer":42}' }),
    );
    expect(json).toMatchObject({
      response: { answer: 42 },
      completed_at: '2026-01-01T00:00:02.000Z',
    });
    for (const result of ['plain text', '[1,2]', '"s"', '']) {
      expect(toTaskStatusResponse(task({ result }))).not.toHaveProperty('response');
    }
  });

  it.each([
    [{ picked: false }, 'TASK_STATUS_QUEUED'],
    [{ picked: true }, 'TASK_STATUS_RUNNING'],
    [{ control: { ...initialControlState(), is_paused: true } }, 'TASK_STATUS_PAUSED'],
    [{ terminal: 'TIMEOUT' as const }, 'TASK_STATUS_TIMEOUT'],
    [
      { terminal: 'CANCELLED' as const, control: { ...initialControlState(), is_paused: true } },
      'TASK_STATUS_CANCELLED',
    ],
  ])('reports %j as %s', (change, status) => {
    expect(toTaskStatusResponse(task(change)).status).toBe(status);
  });
});
