import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './processes';

const VERSION = '4.32.5';
const VENV = join(ROOT, '.tools', 'schemathesis');
const CLI = join(VENV, 'bin', 'st');

/** The schemathesis CLI, installed from PyPI into .tools/schemathesis on first use. */
export function schemathesisCli(): string {
  if (existsSync(CLI)) return CLI;
  const run = (cmd: string, args: string[]): void => {
    const result = spawnSync(cmd, args, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  };
  run('python3', ['-m', 'venv', VENV]);
  run(join(VENV, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `schemathesis==${VERSION}`,
  ]);
  return CLI;
}
