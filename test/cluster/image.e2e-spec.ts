/**
 * The image of deploy/Dockerfile, built without Docker (none runs here): its steps run in a
 * clean directory (deploy/dockerfile-steps.ts), then its command starts the API, and a worker
 * from the same files, against the test cluster, as an unprivileged user.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runDockerfileSteps } from '../../deploy/dockerfile-steps';
import { ApiClient } from '../support/api';
import { temporalEnv } from '../support/e2e-env';
import { KEYS, writeKeysFile } from '../support/keys';
import { freePort } from '../support/ports';
import { ROOT } from '../support/processes';
import { waitFor } from '../support/wait';

/** `nobody`, when the tests run as root: the image runs as a user of its own, not root. */
const UNPRIVILEGED = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

describe('the image of deploy/Dockerfile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'task-api-image-'));
  const running: ChildProcess[] = [];

  beforeAll(() => {
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'shared'));
  });
  afterAll(async () => {
    await Promise.all(
      running.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve(undefined);
            child.once('exit', resolve);
            child.kill('SIGTERM');
          }),
      ),
    );
  });

  /** Readable by the unprivileged user: the keys file and the client's TLS files. */
  function shared(file: string): string {
    const copy = join(dir, 'shared', basename(file));
    copyFileSync(file, copy);
    chmodSync(copy, 0o644);
    return copy;
  }

  function start(command: string[], workdir: string, env: Record<string, string>, name: string) {
    const log = openSync(join(dir, `${name}.log`), 'a');
    const [bin, ...args] = command;
    const child = spawn(bin === 'node' ? process.execPath : bin, args, {
      cwd: workdir,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', log, log],
      ...UNPRIVILEGED,
    });
    closeSync(log);
    running.push(child);
    return child;
  }

  it('builds, holds production dependencies only, and serves tasks with its own command', async () => {
    const image = runDockerfileSteps(join(ROOT, 'deploy/Dockerfile'), ROOT, join(dir, 'stages'));
    expect(image.cmd).toEqual(['node', '--heap-growing-percent=100', 'dist/main.js']);
    expect([image.env, image.user]).toEqual([{ NODE_ENV: 'production' }, 'node']);
    const has = (path: string) => existsSync(join(image.workdir, path));
    expect([
      has('dist/main.js'),
      has('dist/worker.js'),
      has('dist/workflow-bundle.js'),
      has('node_modules/@temporalio/worker'),
    ]).toEqual([true, true, true, true]);
    // Development dependencies and sources stay out.
    expect([has('node_modules/typescript'), has('node_modules/jest'), has('src')]).toEqual([
      false,
      false,
      false,
    ]);

    const tls = Object.fromEntries(
      Object.entries(temporalEnv()).map(([k, v]) => [k, k.endsWith('_PATH') ? shared(v) : v]),
    );
    const port = await freePort();
    const taskQueue = `image-${randomUUID()}`;
    const env = {
      ...image.env,
      ...tls,
      TEMPORAL_TASK_QUEUE: taskQueue,
      API_KEYS_FILE: shared(writeKeysFile()),
      PORT: String(port),
    };
    start(image.cmd, image.workdir, env, 'api');
    start(['node', 'dist/worker.js'], image.workdir, env, 'worker');

    const api = new ApiClient(`http://127.0.0.1:${port}`, KEYS.acmeWriter);
    await waitFor(
      'the API from the image to be ready',
      async () => (await api.request('GET', '/readiness').catch(() => undefined))?.status === 200,
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${readFileSync(join(dir, 'api.log'), 'utf8')}`);
    });
    const taskId = await api.submit({ steps: 2, step_duration_ms: 0 });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED', 60_000);
    // Production mode: JSON log lines.
    const line = readFileSync(join(dir, 'api.log'), 'utf8').split('\n')[0];
    expect(JSON.parse(line)).toEqual(expect.objectContaining({ level: 'log' }));
  }, 300_000);
});
