import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './processes';

/**
 * A Python package from PyPI, installed once into its own venv under .tools/ (never into the
 * machine's Python), so a fresh clone needs nothing installed by hand. Resolves to the venv's
 * `bin/<bin>` once `installed(path)` says the venv holds the wanted version.
 */
export function pythonTool(
  name: string,
  requirement: string,
  bin: string,
  installed: (path: string) => boolean = existsSync,
): string {
  const venv = join(ROOT, '.tools', name);
  const path = join(venv, 'bin', bin);
  if (installed(path)) return path;
  const run = (cmd: string, args: string[]): void => {
    const result = spawnSync(cmd, args, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  };
  run('python3', ['-m', 'venv', venv]);
  run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', requirement]);
  return path;
}
