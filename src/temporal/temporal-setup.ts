import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/contract';
import { grpcCode, isNamespaceNotFound, isUnknownTaskSearchAttribute } from './grpc-errors';
import { TemporalSetupError } from './temporal-setup-error';

type WorkflowService = Pick<
  temporal.api.workflowservice.v1.WorkflowService,
  'describeNamespace' | 'registerNamespace' | 'countWorkflowExecutions'
>;
type OperatorService = Pick<
  temporal.api.operatorservice.v1.OperatorService,
  'listSearchAttributes' | 'addSearchAttributes'
>;

/** What the set-up and its checks need of a connection: the client's or the worker's. */
export interface TemporalServices {
  workflowService: WorkflowService;
  operatorService: OperatorService;
}

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

/** The task search attributes the namespace lacks. */
export async function missingSearchAttributes(
  operator: Pick<OperatorService, 'listSearchAttributes'>,
  namespace: string,
): Promise<string[]> {
  const { customAttributes } = await operator.listSearchAttributes({ namespace });
  return SEARCH_ATTRIBUTES.map((a) => a.name).filter((name) => !customAttributes?.[name]);
}

/** Registers the task search attributes that the namespace lacks (all are keywords). */
export async function registerSearchAttributes(
  operator: OperatorService,
  namespace: string,
): Promise<string[]> {
  const missing = await missingSearchAttributes(operator, namespace);
  if (missing.length > 0) {
    await operator.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
    });
  }
  return missing;
}

// gRPC status codes.
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;
const UNIMPLEMENTED = 12;
const UNAVAILABLE = 14;

/**
 * What of the set-up is missing: undefined when the namespace and every task search attribute
 * exist. Throws what Temporal threw when it does not answer.
 */
export async function findMissingSetup(
  services: TemporalServices,
  namespace: string,
): Promise<TemporalSetupError | undefined> {
  try {
    await services.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (isNamespaceNotFound(err)) return TemporalSetupError.namespaceMissing(err, namespace);
    throw err;
  }
  // Asked only once the namespace exists: with SQL visibility Temporal answers this for a
  // missing namespace with UNAVAILABLE, which would read as an outage.
  const missing = await missingSearchAttributes(services.operatorService, namespace);
  return missing.length > 0 ? TemporalSetupError.searchAttributesMissing(missing) : undefined;
}

export interface SetUpOptions {
  /** How long Temporal keeps a closed task's history (a new namespace only). */
  retentionDays: number;
  /** Progress, one line at a time. */
  log?: (line: string) => void;
  /** Gives up when Temporal does not answer, or a registration does not take effect, by then. */
  timeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Registers the namespace (when missing) and the task search attributes (those missing), then
 * waits until Temporal accepts both in calls that use them. Idempotent: run it on every deploy.
 * A cluster caches namespaces and refreshes them on a timer, so a registration takes up to a
 * few seconds to reach every service.
 */
export async function setUpTemporal(
  services: TemporalServices,
  namespace: string,
  { retentionDays, log = () => {}, timeoutMs = 60_000 }: SetUpOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  /** Calls `fn` until it answers, riding out a server that is still starting. */
  const answered = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (grpcCode(err) !== UNAVAILABLE || Date.now() > deadline) throw err;
        await sleep(250);
      }
    }
  };
  /** Polls until `usable` resolves true. */
  const until = async (what: string, usable: () => Promise<boolean>): Promise<void> => {
    while (!(await answered(usable))) {
      if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
      await sleep(100);
    }
  };

  const missing = await answered(() => findMissingSetup(services, namespace));
  if (missing?.missing === 'namespace') {
    await answered(() => registerNamespace(services.workflowService, namespace, retentionDays));
    const days = `${retentionDays} day${retentionDays === 1 ? '' : 's'}`;
    log(`Registered namespace "${namespace}" (closed tasks kept ${days})`);
  } else {
    log(`Namespace "${namespace}" exists`);
  }
  // Calls that name the namespace resolve it through the cache, not the database.
  await until(`namespace "${namespace}" to be usable`, async () => {
    try {
      await services.workflowService.countWorkflowExecutions({ namespace, query: '' });
      return true;
    } catch (err) {
      if (isNamespaceNotFound(err)) return false;
      throw err;
    }
  });

  const added = await answered(() =>
    registerSearchAttributes(services.operatorService, namespace).catch((err: unknown) => {
      throw refusedByServer(err, addSearchAttributesByHand(namespace)) ?? err;
    }),
  );
  const names = SEARCH_ATTRIBUTES.map((a) => a.name).join(', ');
  log(
    added.length
      ? `Added search attributes ${added.join(', ')}`
      : `Search attributes ${names} exist`,
  );
  // A query that names every attribute fails exactly as a task start would until they are usable.
  const query = SEARCH_ATTRIBUTES.map((a) => `${a.name} = ''`).join(' AND ');
  await until('the search attributes to be usable', async () => {
    try {
      await services.workflowService.countWorkflowExecutions({ namespace, query });
      return true;
    } catch (err) {
      if (isUnknownTaskSearchAttribute(err)) return false;
      throw err;
    }
  });
}

async function registerNamespace(
  workflowService: WorkflowService,
  namespace: string,
  retentionDays: number,
): Promise<void> {
  try {
    await workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(retentionDays * 24 * 3600 * 1000),
    });
  } catch (err) {
    if (grpcCode(err) === ALREADY_EXISTS) return; // a concurrent set-up registered it
    throw (
      refusedByServer(
        err,
        `create namespace "${namespace}" there (Temporal Cloud: its web UI or ` +
          '"tcld namespace create"), then run this again',
      ) ?? err
    );
  }
}

const addSearchAttributesByHand = (namespace: string): string =>
  `add the Keyword search attributes ${SEARCH_ATTRIBUTES.map((a) => a.name).join(', ')} to ` +
  `namespace "${namespace}" there (Temporal Cloud: its web UI or ` +
  '"tcld namespace search-attributes add"), then run this again';

/** A server that does not let clients do this (Temporal Cloud): say what to do instead. */
function refusedByServer(err: unknown, instead: string): Error | undefined {
  const code = grpcCode(err);
  if (code !== PERMISSION_DENIED && code !== UNIMPLEMENTED) return undefined;
  return new Error(`This Temporal refused the request (${(err as Error).message}): ${instead}`, {
    cause: err,
  });
}
