// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    // One-way layers (docs/architecture.md): the Temporal adapter knows no feature folder.
    files: ['src/temporal/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../tasks/*',
                '../activities/*',
                '../events/*',
                '../batches/*',
                '../auth/*',
                '../webhooks/*',
                '../approvals/*',
              ],
              message: 'src/temporal is below the feature folders: pass what it needs in.',
            },
          ],
        },
      ],
    },
  },
  {
    // Shared HTTP plumbing knows no feature folder either (its specs may use their errors).
    files: ['src/common/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../tasks/*',
                '../activities/*',
                '../events/*',
                '../batches/*',
                '../auth/*',
                '../temporal/*',
              ],
              message: 'src/common is below the feature folders.',
            },
          ],
        },
      ],
    },
  },
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
