/**
 * API key management for operators (`npm run keys -- <command>`), on the file API_KEYS_FILE
 * names (or --file). Keys are printed once at creation; the file holds only their SHA-256.
 *
 *   keys create --name N --tenant T --user U --scopes tasks:read,tasks:write [--expires 30d]
 *   keys list
 *   keys revoke --name N
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KeyStore, StoredKey, sha256 } from '../auth/key-store';
import { SCOPES, Scope } from '../auth/principal';
import { ConfigError, configFromEnvironment } from '../config/app-config';

class UsageError extends Error {}

const DURATION = /^(\d+)([dhm])$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** `30d`, `12h`, `45m`, or an RFC 3339 instant; never one that has passed. */
function expiry(value: string, now: Date): string {
  const duration = DURATION.exec(value);
  const at = duration
    ? new Date(now.getTime() + Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS])
    : new Date(value);
  if (Number.isNaN(at.getTime())) {
    throw new UsageError(
      `--expires must be like 30d, 12h, 45m or an RFC 3339 time, not "${value}"`,
    );
  }
  // A key that would never work is a mistake (a typo in the year, 0d), not a wish.
  if (at <= now) {
    throw new UsageError(`--expires must be in the future: ${at.toISOString()} has passed`);
  }
  return at.toISOString();
}

function readEntries(file: string): StoredKey[] {
  if (!existsSync(file)) return [];
  KeyStore.fromFile(file); // refuses a file the service would refuse
  return JSON.parse(readFileSync(file, 'utf8')) as StoredKey[];
}

/** Write to a temporary file and rename: the service never reads a half-written file. */
function writeEntries(file: string, entries: StoredKey[]): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

function status(entry: StoredKey, now: Date): string {
  if (entry.revoked_at && new Date(entry.revoked_at) <= now) return 'revoked';
  if (entry.expires_at && new Date(entry.expires_at) <= now) return 'expired';
  return 'active';
}

export function run(argv: string[], out: (line: string) => void, now = new Date()): void {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      file: { type: 'string' },
      name: { type: 'string' },
      tenant: { type: 'string' },
      user: { type: 'string' },
      scopes: { type: 'string' },
      expires: { type: 'string' },
    },
  });
  const file = values.file ?? configFromEnvironment().apiKeysFile;
  if (!file) throw new UsageError('Set API_KEYS_FILE or pass --file');
  const entries = readEntries(file);

  switch (command) {
    case 'create': {
      const { name, tenant, user } = values;
      if (!name || !tenant || !user || !values.scopes) {
        throw new UsageError('create needs --name, --tenant, --user and --scopes');
      }
      if (entries.some((e) => e.name === name))
        throw new UsageError(`A key named "${name}" exists`);
      const scopes = values.scopes.split(',').map((s) => s.trim());
      const unknown = scopes.find((s) => !(SCOPES as readonly string[]).includes(s));
      if (unknown) throw new UsageError(`Unknown scope "${unknown}": use ${SCOPES.join(', ')}`);
      const key = `sk_live_${randomBytes(24).toString('base64url')}`;
      const entry: StoredKey = {
        name,
        key_sha256: sha256(key).toString('hex'),
        tenant_id: tenant,
        user_id: user,
        scopes: scopes as Scope[],
        ...(values.expires && { expires_at: expiry(values.expires, now) }),
      };
      KeyStore.fromEntries([...entries, entry], file); // validates tenant and the rest
      writeEntries(file, [...entries, entry]);
      out(key);
      out(
        `Created key "${name}" for tenant ${tenant}, user ${user}. This is the only time it is shown.`,
      );
      return;
    }
    case 'list': {
      out(['NAME', 'TENANT', 'USER', 'SCOPES', 'EXPIRES', 'STATUS'].join('\t'));
      for (const e of entries) {
        out(
          [
            e.name,
            e.tenant_id,
            e.user_id,
            e.scopes.join(','),
            e.expires_at ?? '-',
            status(e, now),
          ].join('\t'),
        );
      }
      return;
    }
    case 'revoke': {
      const entry = entries.find((e) => e.name === values.name);
      if (!entry) throw new UsageError(`No key named "${values.name ?? ''}"`);
      entry.revoked_at ??= now.toISOString();
      writeEntries(file, entries);
      out(`Revoked key "${entry.name}".`);
      return;
    }
    default:
      throw new UsageError('Usage: keys create|list|revoke (see src/scripts/keys.ts)');
  }
}

if (require.main === module) {
  try {
    run(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`));
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
