import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How a key file stores a key. */
export const sha256Hex = (key: string): string => createHash('sha256').update(key).digest('hex');

/** A key file with these entries, in a fresh temporary directory; its path. */
export function keysFile(entries: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.json');
  writeFileSync(file, JSON.stringify(entries));
  return file;
}
