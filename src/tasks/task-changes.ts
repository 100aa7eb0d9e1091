import { Injectable } from '@nestjs/common';

/**
 * Tells the parts of this process that follow tasks (event streams) that a task just changed
 * because of a decision made here, so they read it now instead of at their next turn.
 */
@Injectable()
export class TaskChanges {
  private readonly listeners = new Set<(taskId: string) => void>();

  notify(taskId: string): void {
    for (const listener of this.listeners) listener(taskId);
  }

  /** Returns the function that stops listening. */
  listen(listener: (taskId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
