import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Plain keys the tests present; the file the API reads holds only their hashes. */
export const KEYS = {
  acmeWriter: 'sk_e2e_acme_writer_4f1c',
  acmeReader: 'sk_e2e_acme_reader_9b2d',
  acmeOperator: 'sk_e2e_acme_operator_5e81',
  globexWriter: 'sk_e2e_globex_writer_77aa',
  acmeExpired: 'sk_e2e_acme_expired_0c3e',
} as const;

const hash = (key: string): string => createHash('sha256').update(key).digest('hex');

export function writeKeysFile(): string {
  const entries = [
    {
      name: 'acme-writer',
      key: KEYS.acmeWriter,
      tenant_id: 'acme',
      user_id: 'alice',
      scopes: ['tasks:read', 'tasks:write'],
    },
    {
      name: 'acme-reader',
      key: KEYS.acmeReader,
      tenant_id: 'acme',
      user_id: 'carol',
      scopes: ['tasks:read'],
    },
    {
      name: 'acme-operator',
      key: KEYS.acmeOperator,
      tenant_id: 'acme',
      user_id: 'oscar',
      scopes: ['tasks:read', 'tasks:write'],
    },
    {
      name: 'globex-writer',
      key: KEYS.globexWriter,
      tenant_id: 'globex',
      user_id: 'bob',
      scopes: ['tasks:read', 'tasks:write'],
    },
    {
      name: 'acme-expired',
      key: KEYS.acmeExpired,
      tenant_id: 'acme',
      user_id: 'dave',
      scopes: ['tasks:read', 'tasks:write'],
      expires_at: '2020-01-01T00:00:00Z',
    },
  ].map(({ key, ...rest }) => ({ ...rest, key_sha256: hash(key) }));
  const file = join(mkdtempSync(join(tmpdir(), 'task-api-keys-')), 'keys.json');
  writeFileSync(file, JSON.stringify(entries, null, 2));
  return file;
}
