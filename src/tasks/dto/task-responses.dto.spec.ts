import { taskSnapshot as task } from '../../testing/task-snapshot';
import { initialControlState } from '../../workflows/contract';
import { toTaskStatusResponse } from './task-responses.dto';

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
    [{ started: false }, 'TASK_STATUS_QUEUED'],
    [{ started: true }, 'TASK_STATUS_RUNNING'],
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
