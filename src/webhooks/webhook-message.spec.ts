import type { TaskEvent } from '../tasks/task-event';
import { retryDelayMs, webhookMessage } from './webhook-message';

describe('webhookMessage', () => {
  it('carries the event as data, with an id stable per task event', () => {
    const event: TaskEvent = {
      workflow_id: 'task_1',
      type: 'workflow.paused',
      message: 'Paused',
      timestamp: '2026-01-02T03:04:05.000Z',
      seq: 12,
      checkpoint: 'pre_step_2',
    };
    const message = webhookMessage('task_1', event);
    expect(message.id).toBe('evt_task_1_12');
    expect(JSON.parse(message.body)).toEqual({
      type: 'workflow.paused',
      task_id: 'task_1',
      seq: 12,
      timestamp: '2026-01-02T03:04:05.000Z',
      data: event,
    });
  });
});

describe('retryDelayMs', () => {
  const middle = () => 0.5;
  it('doubles from the initial wait up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, 1000, 10_000, middle))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect(retryDelayMs(500, 1000, 10_000, middle)).toBe(10_000);
  });

  it('spreads each wait by at most 20 %, never past the maximum', () => {
    expect(retryDelayMs(2, 1000, 10_000, () => 0)).toBe(1600);
    expect(retryDelayMs(2, 1000, 10_000, () => 1)).toBe(2400);
    expect(retryDelayMs(9, 1000, 10_000, () => 1)).toBe(10_000);
  });
});
