/**
 * Writes the committed copy of the OpenAPI document (`openapi.json`): `npm run openapi`.
 * A test fails when the copy differs from what the app serves.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppModule } from '../app.module';
import { loadConfig } from '../config/app-config';
import { buildOpenApiDocument, createHttpApp } from '../http-app';

/** Keys sorted at every level, two-space indent, trailing newline: diffs stay readable. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

export const COMMITTED_OPENAPI = join(__dirname, '..', '..', 'openapi.json');

async function main(): Promise<void> {
  // Building the document needs no Temporal: the client connects lazily.
  const app = await createHttpApp(AppModule.forRoot(loadConfig({ NODE_ENV: 'development' })), [
    'error',
  ]);
  writeFileSync(COMMITTED_OPENAPI, stableJson(buildOpenApiDocument(app)));
  await app.close();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
