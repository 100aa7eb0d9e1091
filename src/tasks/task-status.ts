export const TASK_STATUSES = [
  'TASK_STATUS_QUEUED',
  'TASK_STATUS_RUNNING',
  'TASK_STATUS_PAUSED',
  'TASK_STATUS_COMPLETED',
  'TASK_STATUS_FAILED',
  'TASK_STATUS_CANCELLED',
  'TASK_STATUS_TIMEOUT',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** How a closed task ended, as named in cancel's 409 body. */
export type TerminalStatus = 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMEOUT';

/** How the terminal states read in the pause and resume 409 messages. */
export const TERMINAL_WORDS: Record<TerminalStatus, string> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TIMEOUT: 'timed out',
};
