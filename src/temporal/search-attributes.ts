import { Injectable } from '@nestjs/common';
import { Client } from '@temporalio/client';
import { AppConfig } from '../config/app-config';
import { isUnknownTaskSearchAttribute } from './grpc-errors';
import { findMissingSetup } from './temporal-setup';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn`, again while Temporal refuses a task search attribute as unknown, until `deadline`.
 * Called only once the attributes are known to be registered: a cluster then still refuses them
 * for a moment, until the namespace caches of all its services have refreshed (measured:
 * 0.3–2.2 s), and no request may fail for that.
 */
export async function whileSearchAttributesPropagate<T>(
  fn: () => Promise<T>,
  deadline: number,
): Promise<T> {
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      return await fn();
    } catch (err) {
      if (!isUnknownTaskSearchAttribute(err) || Date.now() + delay >= deadline) throw err;
      await sleep(delay);
    }
  }
}

/**
 * Starting a task sets search attributes, which Temporal rejects unless an operator registered
 * them (`npm run temporal:setup`). Checked once, on first need, so the API starts (and reports
 * not ready) while Temporal is down or not set up; a failed check is repeated by the next caller.
 */
@Injectable()
export class SearchAttributes {
  private ready?: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly config: AppConfig,
  ) {}

  /** Resolves once the namespace and the attributes exist; throws `TemporalSetupError` if not. */
  ensureReady(): Promise<void> {
    this.ready ??= findMissingSetup(this.client.connection, this.config.temporal.namespace).then(
      (missing) => {
        if (missing) throw missing;
      },
    );
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }
}
