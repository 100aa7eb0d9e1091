import { Logger } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/app-config';
import { Principal, SCOPES, Scope } from './principal';

/** One entry of the `API_KEYS_FILE` JSON array. */
export interface StoredKey {
  name: string;
  key_sha256: string;
  tenant_id: string;
  user_id: string;
  scopes: Scope[];
  expires_at?: string;
}

interface LoadedKey {
  digest: Buffer;
  expiresAt?: Date;
  principal: Principal;
}

/** The documented example key, accepted only in development when no key is configured. */
export const DEVELOPMENT_KEY = 'sk_test_123456';

export const sha256 = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function parseEntry(entry: unknown, index: number, file: string): LoadedKey {
  const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  const where = `${file}: entry ${index}${nonEmptyString(e.name) ? ` ("${e.name}")` : ''}`;
  for (const field of ['name', 'tenant_id', 'user_id'] as const) {
    if (!nonEmptyString(e[field]))
      throw new ConfigError(`${where}: ${field} must be a non-empty string`);
  }
  if (!/^[A-Za-z0-9:_\-.]{1,128}$/.test(e.tenant_id as string)) {
    throw new ConfigError(`${where}: tenant_id may use only letters, digits and : _ - .`);
  }
  if (typeof e.key_sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(e.key_sha256)) {
    throw new ConfigError(`${where}: key_sha256 must be 64 hex characters`);
  }
  const scopes = e.scopes;
  if (!Array.isArray(scopes) || !scopes.every((s) => (SCOPES as readonly unknown[]).includes(s))) {
    throw new ConfigError(`${where}: scopes must be a list of ${SCOPES.join(', ')}`);
  }
  let expiresAt: Date | undefined;
  if (e.expires_at !== undefined) {
    expiresAt = typeof e.expires_at === 'string' ? new Date(e.expires_at) : undefined;
    if (!expiresAt || Number.isNaN(expiresAt.getTime())) {
      throw new ConfigError(`${where}: expires_at must be an RFC 3339 timestamp`);
    }
  }
  return {
    digest: Buffer.from(e.key_sha256, 'hex'),
    expiresAt,
    principal: {
      keyName: e.name as string,
      tenantId: e.tenant_id as string,
      userId: e.user_id as string,
      scopes: scopes as Scope[],
    },
  };
}

/** API keys, held only as SHA-256 digests. */
export class KeyStore {
  private constructor(private readonly keys: readonly LoadedKey[]) {}

  static fromFile(file: string): KeyStore {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(
        `API_KEYS_FILE ${file} cannot be read as JSON: ${(err as Error).message}`,
      );
    }
    if (!Array.isArray(parsed))
      throw new ConfigError(`API_KEYS_FILE ${file} must hold a JSON array`);
    return new KeyStore(parsed.map((entry, i) => parseEntry(entry, i, file)));
  }

  static developmentDefault(): KeyStore {
    return new KeyStore([
      {
        digest: sha256(DEVELOPMENT_KEY),
        principal: {
          keyName: 'development-default',
          tenantId: 'default',
          userId: 'dev',
          scopes: SCOPES,
        },
      },
    ]);
  }

  /** Key file when configured; otherwise the development key, refused in production. */
  static fromConfig(
    options: { apiKeysFile?: string; production: boolean },
    logger: Logger,
  ): KeyStore {
    if (options.apiKeysFile) return KeyStore.fromFile(options.apiKeysFile);
    if (options.production) {
      throw new ConfigError('API_KEYS_FILE must be set when NODE_ENV=production');
    }
    logger.warn(
      `No API_KEYS_FILE configured: the development key ${DEVELOPMENT_KEY} is accepted ` +
        '(tenant "default", user "dev", all scopes). Never run like this in production.',
    );
    return KeyStore.developmentDefault();
  }

  /**
   * Compares the key's digest with every stored digest in constant time, and keeps going after a
   * match, so the time taken says nothing about which key or how much of it matched.
   */
  authenticate(key: string, now = new Date()): Principal | undefined {
    const digest = sha256(key);
    let match: LoadedKey | undefined;
    for (const stored of this.keys) {
      if (timingSafeEqual(stored.digest, digest) && !match) match = stored;
    }
    if (!match || (match.expiresAt && match.expiresAt <= now)) return undefined;
    return match.principal;
  }
}
