/**
 * Runs at most `max` operations at once; the others wait their turn, first come first served.
 * A burst of work then queues here, where waiting costs nothing, instead of as calls in flight
 * that hold buffers and run out their deadlines.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await operation();
    } finally {
      // The slot passes straight to the next in line, or is freed.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Operations waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }
}
