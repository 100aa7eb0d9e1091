import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { ConfigError } from '../config/app-config';
import { Principal, SCOPES, Scope } from './principal';
import { ID_PATTERN } from '../common/ids';

/** One entry of the `API_KEYS_FILE` JSON array. */
export interface StoredKey {
  name: string;
  key_sha256: string;
  tenant_id: string;
  user_id: string;
  scopes: Scope[];
  expires_at?: string;
  /** Set by `keys revoke`: the key stops working from this instant. */
  revoked_at?: string;
}

interface LoadedKey {
  digest: Buffer;
  /** The earlier of expiry and revocation. */
  endsAt?: Date;
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
  if (!ID_PATTERN.test(e.tenant_id as string)) {
    throw new ConfigError(`${where}: tenant_id may use only letters, digits and : _ - .`);
  }
  if (typeof e.key_sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(e.key_sha256)) {
    throw new ConfigError(`${where}: key_sha256 must be 64 hex characters`);
  }
  const scopes = e.scopes;
  if (!Array.isArray(scopes) || !scopes.every((s) => (SCOPES as readonly unknown[]).includes(s))) {
    throw new ConfigError(`${where}: scopes must be a list of ${SCOPES.join(', ')}`);
  }
  const instant = (field: 'expires_at' | 'revoked_at'): Date | undefined => {
    if (e[field] === undefined) return undefined;
    const at = typeof e[field] === 'string' ? new Date(e[field]) : undefined;
    if (!at || Number.isNaN(at.getTime())) {
      throw new ConfigError(`${where}: ${field} must be an RFC 3339 timestamp`);
    }
    return at;
  };
  const ends = [instant('expires_at'), instant('revoked_at')].filter((d) => d !== undefined);
  return {
    digest: Buffer.from(e.key_sha256, 'hex'),
    endsAt: ends.length ? new Date(Math.min(...ends.map((d) => d.getTime()))) : undefined,
    principal: {
      keyName: e.name as string,
      tenantId: e.tenant_id as string,
      userId: e.user_id as string,
      scopes: scopes as Scope[],
    },
  };
}

function parseEntries(parsed: unknown, file: string): LoadedKey[] {
  if (!Array.isArray(parsed)) throw new ConfigError(`API_KEYS_FILE ${file} must hold a JSON array`);
  return parsed.map((entry, i) => parseEntry(entry, i, file));
}

function readKeysFile(file: string): LoadedKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(
      `API_KEYS_FILE ${file} cannot be read as JSON: ${(err as Error).message}`,
    );
  }
  return parseEntries(parsed, file);
}

/** How often the key file is checked for changes. */
const WATCH_INTERVAL_MS = 500;

/** API keys, held only as SHA-256 digests. */
export class KeyStore implements OnApplicationShutdown {
  private watched?: string;

  private constructor(private keys: readonly LoadedKey[]) {}

  static fromFile(file: string): KeyStore {
    return new KeyStore(readKeysFile(file));
  }

  /** Validates entries as the service would read them from `file`. */
  static fromEntries(entries: StoredKey[], file: string): KeyStore {
    return new KeyStore(parseEntries(entries, file));
  }

  /**
   * Keeps the keys in step with the file, so created, revoked and edited keys take effect
   * without a restart. A file that does not parse is reported and the last good keys stay.
   */
  static watching(file: string, logger: Logger): KeyStore {
    const store = KeyStore.fromFile(file);
    store.watched = file;
    watchFile(file, { interval: WATCH_INTERVAL_MS }, () => {
      try {
        store.keys = readKeysFile(file);
        logger.log(`Reloaded ${store.keys.length} API keys from ${file}`);
      } catch (err) {
        logger.error(`Kept the previous API keys: ${(err as Error).message}`);
      }
    });
    return store;
  }

  onApplicationShutdown(): void {
    if (this.watched) unwatchFile(this.watched);
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
    if (options.apiKeysFile) return KeyStore.watching(options.apiKeysFile, logger);
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
    if (!match || (match.endsAt && match.endsAt <= now)) return undefined;
    return match.principal;
  }

  /**
   * Whether the key a principal was authenticated with still works (not revoked, expired or
   * removed since): long-lived requests such as event streams ask again as they go.
   */
  stillValid(principal: Principal, now = new Date()): boolean {
    return this.keys.some(
      (stored) =>
        stored.principal.keyName === principal.keyName &&
        stored.principal.tenantId === principal.tenantId &&
        (!stored.endsAt || stored.endsAt > now),
    );
  }
}
