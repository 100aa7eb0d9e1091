/**
 * PostgreSQL 15 for the cluster: initialised once under DATA_DIR/postgres (`initdb`, password
 * authentication for the `temporal` role), then started with postgresql.conf from this folder,
 * listening on 127.0.0.1 at the port derived from TEMPORAL_PORT and on a socket in its data
 * directory. PostgreSQL refuses to run as root: as root, it runs as the `postgres` user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceSpec } from '../supervisor';

const BIN = process.env.POSTGRES_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
export const POSTGRES_USER = 'temporal';

interface Owner {
  uid: number;
  gid: number;
}

/** Who runs PostgreSQL: the caller, or the `postgres` system user when the caller is root. */
function owner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export interface Postgres {
  spec: ServiceSpec;
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Initialises the data directory on first use and describes the server process. */
export function preparePostgres(dataDir: string, port: number, logFile: string): Postgres {
  if (!existsSync(join(BIN, 'postgres'))) {
    throw new Error(
      `PostgreSQL 15 is not installed (${BIN}): run "bash deploy/system-deps.sh cluster"`,
    );
  }
  const runAs = owner();
  const pgData = join(dataDir, 'postgres');
  // The password of the `temporal` role, made at initdb and kept beside (not in) the data.
  const passwordFile = join(dataDir, 'postgres.password');
  if (!existsSync(join(pgData, 'PG_VERSION'))) {
    rmSync(pgData, { recursive: true, force: true });
    mkdirSync(pgData, { recursive: true, mode: 0o700 });
    const password = randomBytes(18).toString('base64url');
    writeFileSync(passwordFile, password, { mode: 0o600 });
    const pwfile = join(dataDir, '.initdb-password');
    writeFileSync(pwfile, password, { mode: 0o600 });
    if (runAs) {
      chownSync(pgData, runAs.uid, runAs.gid);
      chownSync(pwfile, runAs.uid, runAs.gid);
    }
    const init = spawnSync(
      join(BIN, 'initdb'),
      ['-D', pgData, '-U', POSTGRES_USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256'].concat([
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
      ]),
      { uid: runAs?.uid, gid: runAs?.gid, encoding: 'utf8' },
    );
    rmSync(pwfile, { force: true });
    if (init.status !== 0) {
      rmSync(pgData, { recursive: true, force: true });
      throw new Error(
        `initdb failed${runAs ? ' (as user postgres: can it reach ' + pgData + '?)' : ''}:\n` +
          `${init.stderr || init.error?.message}`,
      );
    }
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  const host = '127.0.0.1';
  return {
    host,
    port,
    user: POSTGRES_USER,
    password,
    spec: {
      name: 'postgres',
      command: join(BIN, 'postgres'),
      args: ['-D', pgData, '-p', String(port)].concat(
        ['-c', `config_file=${join(__dirname, 'postgresql.conf')}`],
        ['-c', `unix_socket_directories=${pgData}`],
      ),
      uid: runAs?.uid,
      gid: runAs?.gid,
      logFile,
      ready: () =>
        Promise.resolve(
          spawnSync(join(BIN, 'pg_isready'), ['-q', '-h', host, '-p', String(port)]).status === 0,
        ),
      // Fast shutdown: ends sessions, writes a checkpoint.
      stopSignal: 'SIGINT',
      stopTimeoutMs: 30_000,
    },
  };
}
