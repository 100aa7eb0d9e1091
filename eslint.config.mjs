// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * One-way layers (docs/architecture.md), bottom first: a folder of src/ imports only folders of
 * the layers below its own. src/workflows, the bottom, has a stricter rule of its own below;
 * src/scripts and src/testing sit on top of everything. Specs may reach wherever they test.
 */
const LAYERS = [
  ['config', 'redis'],
  ['common'],
  ['temporal'],
  ['rate-limit'],
  ['auth'],
  ['tasks'],
  ['events', 'approvals'],
  ['webhooks'],
  ['batches', 'activities', 'health'],
];

function layerRules() {
  return LAYERS.flatMap((layer, index) => {
    const above = LAYERS.slice(index + 1).flat();
    if (above.length === 0) return [];
    return layer.map((folder) => ({
      files: [`src/${folder}/**/*.ts`],
      ignores: ['**/*.spec.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                group: above.flatMap((name) => [`../${name}/*`, `../../${name}/*`]),
                message: `src/${folder} is below ${above.join(', ')}: pass what it needs in, or move the shared part down.`,
              },
            ],
          },
        ],
      },
    }));
  });
}

export default tseslint.config(
  // Fixtures are data: recorded histories and executor modules as users write them.
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      '.tools/',
      'data/',
      'test/fixtures/',
      'clients/*/dist/',
      // Generated from openapi.json (npm run openapi).
      'clients/typescript/src/schema.ts',
      '**/*.js',
      '*.mjs',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // An un-awaited Temporal call is a real bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Workflow code runs in Temporal's sandbox: no Node built-ins, no NestJS. It is the bottom
    // layer: the contract every other folder imports, importing none of them.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', '@nestjs/*', 'fs', 'path', 'crypto', 'os', 'child_process'],
              message: "Workflow code runs in Temporal's sandbox.",
            },
            { group: ['../*'], message: 'Workflow code imports only src/workflows.' },
          ],
        },
      ],
    },
  },
  ...layerRules(),
  {
    files: ['src/scripts/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
