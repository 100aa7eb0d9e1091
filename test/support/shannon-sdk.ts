import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './processes';

const VERSION = '0.7.0';
const VENV = join(ROOT, '.tools', 'shannon-sdk');
const PYTHON = join(VENV, 'bin', 'python');

/**
 * A Python with Shannon's own SDK (PyPI `shannon-sdk`), installed into .tools/shannon-sdk on
 * first use, to check that its client works against this service unchanged.
 */
export function shannonSdkPython(): string {
  const installed = (): boolean =>
    existsSync(PYTHON) &&
    spawnSync(PYTHON, [
      '-c',
      `import importlib.metadata as m; assert m.version('shannon-sdk') == '${VERSION}'`,
    ]).status === 0;
  if (installed()) return PYTHON;
  const run = (cmd: string, args: string[]): void => {
    const result = spawnSync(cmd, args, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  };
  run('python3', ['-m', 'venv', VENV]);
  run(join(VENV, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `shannon-sdk==${VERSION}`,
  ]);
  return PYTHON;
}

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
