import { Injectable, Logger } from '@nestjs/common';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { AppConfig } from '../config/app-config';
import { SEARCH_ATTRIBUTES } from '../workflows/contract';

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

type OperatorService = Pick<
  temporal.api.operatorservice.v1.OperatorService,
  'listSearchAttributes' | 'addSearchAttributes'
>;

/** Registers the task search attributes that the namespace lacks (all are keywords). */
export async function registerSearchAttributes(
  operator: OperatorService,
  namespace: string,
): Promise<string[]> {
  const { customAttributes } = await operator.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.map((a) => a.name).filter((name) => !customAttributes?.[name]);
  if (missing.length > 0) {
    await operator.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
    });
  }
  return missing;
}

/**
 * Starting a task sets search attributes, which Temporal rejects until they are registered.
 * Registration happens once, on first need, so the API starts (and reports not ready) while
 * Temporal is down; a failure is retried by the next caller.
 */
@Injectable()
export class SearchAttributes {
  private readonly logger = new Logger(SearchAttributes.name);
  private registered?: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly config: AppConfig,
  ) {}

  ensureRegistered(): Promise<void> {
    this.registered ??= registerSearchAttributes(
      this.client.connection.operatorService,
      this.config.temporal.namespace,
    ).then(
      (added) => {
        if (added.length) this.logger.log(`Registered search attributes: ${added.join(', ')}`);
      },
      (err: unknown) => {
        this.registered = undefined;
        throw err;
      },
    );
    return this.registered;
  }
}
