import { loadEsm } from 'load-esm';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../config/app-config';
import type { TaskExecutor } from './contract';

const METHODS = ['plan', 'runStep', 'synthesize'] as const;

const isExecutor = (value: unknown): value is TaskExecutor =>
  typeof value === 'object' &&
  value !== null &&
  METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');

const isExecutorClass = (value: unknown): value is new () => TaskExecutor =>
  typeof value === 'function' &&
  METHODS.every(
    (m) => typeof (value.prototype as Record<string, unknown> | undefined)?.[m] === 'function',
  );

/**
 * `TASK_EXECUTOR=module:<path>`: the default export of the module at `path` (relative to the
 * working directory), an ES module or a CommonJS one. It is an object with `plan`, `runStep`
 * and `synthesize`, or a class with them that is constructed without arguments. Anything else
 * stops the worker at start-up with a message naming the variable.
 */
export async function loadModuleExecutor(path: string): Promise<TaskExecutor> {
  const file = resolve(path);
  const problem = (what: string) =>
    new ConfigError(`Invalid configuration: TASK_EXECUTOR=module:${path}: ${what}`);
  if (!existsSync(file)) throw problem(`no such file (${file})`);
  let loaded: Record<string, unknown>;
  try {
    loaded = await loadEsm<Record<string, unknown>>(pathToFileURL(file).href);
  } catch (err) {
    throw problem(`the module failed to load: ${(err as Error).message}`);
  }
  // A CommonJS module's exports arrive as `default`; one compiled from `export default` has
  // its own `default` inside.
  const exported = loaded.default;
  const nested = (exported as Record<string, unknown> | undefined)?.default;
  for (const candidate of [exported, nested]) {
    if (isExecutor(candidate)) return candidate;
    if (isExecutorClass(candidate)) return new candidate();
  }
  throw problem('its default export has no plan, runStep and synthesize functions');
}
