/** Key management as an operator runs it: `npm run keys` against the file a running API reads. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestApi } from './support/api';
import { ROOT } from './support/processes';
import { waitFor } from './support/wait';

describe('npm run keys', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'task-api-keyfile-')), 'keys.json');
  let api: TestApi;

  const keys = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/keys.js'), ...args], {
      env: { PATH: process.env.PATH, API_KEYS_FILE: file },
      encoding: 'utf8',
    });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };
  const list = (key: string) => api.request('GET', '/api/v1/tasks?limit=1', { key });

  beforeAll(async () => {
    expect(
      keys(
        'create',
        '--name',
        'ops',
        '--tenant',
        'acme',
        '--user',
        'olga',
        '--scopes',
        'tasks:read',
      ).code,
    ).toBe(0);
    api = await TestApi.start({ apiKeysFile: file });
  });
  afterAll(async () => {
    await api.close();
  });

  it('creates a key that works at once, printed once and stored only as its hash', async () => {
    const created = keys(
      'create',
      '--name',
      'ci',
      '--tenant',
      'acme',
      '--user',
      'carl',
      '--scopes',
      'tasks:read,tasks:write',
    );
    expect(created.code).toBe(0);
    const key = created.out.split('\n')[0];
    expect(key).toMatch(/^sk_live_[A-Za-z0-9_-]{32}$/);
    expect(created.out).toContain('This is the only time it is shown.');
    expect(readFileSync(file, 'utf8')).not.toContain(key);

    // The running API picks the new key up without a restart.
    await waitFor('the new key to work', async () => (await list(key)).status === 200);
    const listed = keys('list');
    expect(listed.out.split('\n').slice(0, 3)).toEqual([
      'NAME\tTENANT\tUSER\tSCOPES\tEXPIRES\tSTATUS',
      'ops\tacme\tolga\ttasks:read\t-\tactive',
      'ci\tacme\tcarl\ttasks:read,tasks:write\t-\tactive',
    ]);
    expect(listed.out).not.toContain(key);

    expect(keys('revoke', '--name', 'ci').out).toBe('Revoked key "ci".\n');
    await waitFor('the revoked key to be refused', async () => (await list(key)).status === 401);
    expect((await list(key)).body).toEqual({ error: 'Unauthorized' });
    expect(keys('list').out).toContain('ci\tacme\tcarl\ttasks:read,tasks:write\t-\trevoked');
  });

  it('refuses an expired key from its expiry on', async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const created = keys(
      'create',
      '--name',
      'short',
      '--tenant',
      'acme',
      '--user',
      'sam',
      '--scopes',
      'tasks:read',
      '--expires',
      soon,
    );
    const key = created.out.split('\n')[0];
    await waitFor('the key to work', async () => (await list(key)).status === 200);
    await waitFor('the key to expire', async () => (await list(key)).status === 401);
    expect(keys('list').out).toContain(`short\tacme\tsam\ttasks:read\t${soon}\texpired`);
  });

  it.each([
    [
      ['create', '--name', 'x', '--tenant', 'acme', '--user', 'u', '--scopes', 'tasks:admin'],
      'Unknown scope "tasks:admin": use tasks:read, tasks:write',
    ],
    [
      ['create', '--name', 'ops', '--tenant', 'acme', '--user', 'u', '--scopes', 'tasks:read'],
      'A key named "ops" exists',
    ],
    [
      ['create', '--name', 'y', '--tenant', 'a b', '--user', 'u', '--scopes', 'tasks:read'],
      'tenant_id may use only letters, digits and : _ - .',
    ],
    [
      [
        'create',
        '--name',
        'z',
        '--tenant',
        'acme',
        '--user',
        'u',
        '--scopes',
        'tasks:read',
        '--expires',
        'soon',
      ],
      '--expires must be like 30d',
    ],
    [['revoke', '--name', 'nobody'], 'No key named "nobody"'],
  ])('refuses %j with a message', (args, message) => {
    const result = keys(...args);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });
});
