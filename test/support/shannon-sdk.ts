import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pythonTool } from './python-tools';

const VERSION = '0.7.0';

/**
 * A Python with Shannon's own SDK (PyPI `shannon-sdk`), installed into .tools/shannon-sdk on
 * first use, to check that its client works against this service unchanged.
 */
export const shannonSdkPython = (): string =>
  pythonTool(
    'shannon-sdk',
    `shannon-sdk==${VERSION}`,
    'python',
    (python) =>
      existsSync(python) &&
      spawnSync(python, [
        '-c',
        `import importlib.metadata as m; assert m.version('shannon-sdk') == '${VERSION}'`,
      ]).status === 0,
  );

/**
 * Runs a Python script with the SDK and resolves to its stdout (or rejects with its stderr).
 * Asynchronous: the API under test may run in this very process.
 */
export function runWithShannonSdk(script: string, env: Record<string, string>): Promise<string> {
  const python = shannonSdkPython();
  return new Promise((resolve, reject) => {
    execFile(
      python,
      ['-c', script],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout),
    );
  });
}
