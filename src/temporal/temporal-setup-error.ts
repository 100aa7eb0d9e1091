import { NamespaceNotFoundError } from '@temporalio/client';

/** The operator's command that registers the namespace and the task search attributes. */
export const TEMPORAL_SETUP_COMMAND = 'npm run temporal:setup';

/**
 * Temporal answers, but the namespace or the task search attributes are not there: a set-up
 * step is missing, which no retry fixes. The message names the command that fixes it.
 */
export class TemporalSetupError extends Error {
  override readonly name = 'TemporalSetupError';

  private constructor(
    /** What is missing. */
    readonly missing: 'namespace' | 'search attributes',
    message: string,
    options: { cause?: unknown },
  ) {
    super(message, options);
  }

  static namespaceMissing(cause?: unknown, namespace?: string): TemporalSetupError {
    const name =
      namespace ?? (cause instanceof NamespaceNotFoundError ? cause.namespace : undefined);
    return new TemporalSetupError(
      'namespace',
      `Temporal namespace ${name ? `"${name}" ` : ''}does not exist: ` +
        `create it with "${TEMPORAL_SETUP_COMMAND}"`,
      { cause },
    );
  }

  static searchAttributesMissing(names?: string[], cause?: unknown): TemporalSetupError {
    const which = names?.length ? ` (${names.join(', ')})` : '';
    return new TemporalSetupError(
      'search attributes',
      `The task search attributes${which} are not registered in the Temporal namespace: ` +
        `register them with "${TEMPORAL_SETUP_COMMAND}"`,
      { cause },
    );
  }
}
