// Generates src/schema.ts (the types of every route) from the committed openapi.json:
// `npm run generate` here, or `npm run openapi` at the root, which refreshes both.
// A test fails when src/schema.ts differs from what this writes (test/schema.spec.ts).
'use strict';
const { execFileSync } = require('node:child_process');
const { dirname, join } = require('node:path');

const output = process.argv[2] ?? join(__dirname, '..', 'src', 'schema.ts');
execFileSync(
  process.execPath,
  [
    join(dirname(require.resolve('openapi-typescript/package.json')), 'bin', 'cli.js'),
    join(__dirname, '..', '..', '..', 'openapi.json'),
    // A request field with a default (e.g. `mode`) stays optional in the request types.
    '--default-non-nullable=false',
    '--output',
    output,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
