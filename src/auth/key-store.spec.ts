import { Logger } from '@nestjs/common';
import { ConfigError } from '../config/app-config';
import { keysFile, sha256Hex as sha } from '../testing/key-files';
import { KeyStore } from './key-store';

/** A key file with one key, as the tests of the guard use it. */
const store = KeyStore.fromFile(
  keysFile([
    {
      name: 'writer',
      key_sha256: sha('sk_writer'),
      tenant_id: 't1',
      user_id: 'u1',
      scopes: ['tasks:read', 'tasks:write'],
    },
  ]),
);

describe('KeyStore', () => {
  const logger = new Logger('test');

  it.each([
    [{}, 'must hold a JSON array'],
    [
      [{ name: 'k', key_sha256: 'abc', tenant_id: 't', user_id: 'u', scopes: [] }],
      'entry 0 ("k"): key_sha256 must be 64 hex characters',
    ],
    [
      [{ name: 'k', key_sha256: sha('x'), tenant_id: '', user_id: 'u', scopes: [] }],
      'tenant_id must be a non-empty string',
    ],
    [
      [{ name: 'k', key_sha256: sha('x'), tenant_id: 't', user_id: 'u', scopes: ['tasks:admin'] }],
      'scopes must be a list of tasks:read, tasks:write',
    ],
    [
      [
        {
          name: 'k',
          key_sha256: sha('x'),
          tenant_id: 't',
          user_id: 'u',
          scopes: [],
          expires_at: 'soon',
        },
      ],
      'expires_at must be an RFC 3339 timestamp',
    ],
  ])('refuses a bad key file %j, naming the problem', (content, message) => {
    expect(() => KeyStore.fromFile(keysFile(content))).toThrow(message);
  });

  it('refuses to start in production without a key file', () => {
    expect(() => KeyStore.fromConfig({ production: true }, logger)).toThrow(ConfigError);
  });

  it('accepts the documented development key only without a key file, and warns', () => {
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const dev = KeyStore.fromConfig({ production: false }, logger);
    expect(dev.authenticate('sk_test_123456')).toMatchObject({
      tenantId: 'default',
      userId: 'dev',
    });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('sk_test_123456'));
    expect(store.authenticate('sk_test_123456')).toBeUndefined();
  });

  it('treats a key as expired from its expiry instant on', () => {
    const file = keysFile([
      {
        name: 'k',
        key_sha256: sha('sk_k'),
        tenant_id: 't',
        user_id: 'u',
        scopes: ['tasks:read'],
        expires_at: '2030-01-01T00:00:00Z',
      },
    ]);
    const keys = KeyStore.fromFile(file);
    expect(keys.authenticate('sk_k', new Date('2029-12-31T23:59:59Z'))).toBeDefined();
    expect(keys.authenticate('sk_k', new Date('2030-01-01T00:00:00Z'))).toBeUndefined();
  });
});
