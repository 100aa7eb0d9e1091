/** The client's types are generated from the committed openapi.json, never edited by hand. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('clients/typescript/src/schema.ts', () => {
  it('is what openapi-typescript generates from openapi.json (refresh: npm run openapi)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'client-schema-'));
    try {
      const fresh = join(dir, 'schema.ts');
      execFileSync(process.execPath, [
        join(__dirname, '..', 'scripts', 'generate-schema.js'),
        fresh,
      ]);
      expect(readFileSync(join(__dirname, '..', 'src', 'schema.ts'), 'utf8')).toEqual(
        readFileSync(fresh, 'utf8'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
