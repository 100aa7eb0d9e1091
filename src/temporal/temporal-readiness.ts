import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Client } from '@temporalio/client';
import { AppConfig } from '../config/app-config';
import { isNamespaceNotFound } from './grpc-errors';
import { findMissingSetup } from './temporal-setup';
import type { TemporalSetupError } from './temporal-setup-error';

/** What `/readiness` reports: Temporal answers, and has the namespace and search attributes. */
export type TemporalReadinessReport =
  | { ready: true }
  | { ready: false; reachable: false }
  | { ready: false; reachable: true; missing: TemporalSetupError };

/**
 * Whether this API can serve tasks: Temporal answers for the configured namespace, and the task
 * search attributes are registered. Once seen registered they are not asked for again (they
 * cannot be unregistered while tasks use them); the namespace is asked every time.
 */
@Injectable()
export class TemporalReadiness implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Temporal');
  private setUp = false;
  private readonly stopping = new AbortController();
  private startupCheck?: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly config: AppConfig,
  ) {}

  /** In the background: a missing set-up is reported at start, once, naming the fix. */
  onApplicationBootstrap(): void {
    this.startupCheck = this.client.connection
      .withAbortSignal(this.stopping.signal, () => this.check(5_000))
      .then((report) => {
        if (!report.ready && report.reachable) this.logger.error(report.missing.message);
      });
  }

  /** Before the connection closes: a retry of the check must not hit a closed channel. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.startupCheck;
  }

  async check(timeoutMs: number): Promise<TemporalReadinessReport> {
    const { connection } = this.client;
    const namespace = this.config.temporal.namespace;
    try {
      const missing = await connection.withDeadline(Date.now() + timeoutMs, async () => {
        if (this.setUp) {
          try {
            await connection.workflowService.describeNamespace({ namespace });
            return undefined;
          } catch (err) {
            if (!isNamespaceNotFound(err)) throw err;
            this.setUp = false; // deleted since: ask for everything again
          }
        }
        return findMissingSetup(connection, namespace);
      });
      if (missing) return { ready: false, reachable: true, missing };
      this.setUp = true;
      return { ready: true };
    } catch {
      return { ready: false, reachable: false };
    }
  }
}
