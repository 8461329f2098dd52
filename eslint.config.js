// Lint config: typescript-eslint's recommended rules over sources, tests and benchmarks, plus the
// project's own boundaries: configuration is read only in src/config.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'warden-data/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Every setting is declared and read in src/config.ts (docs/configuration.md is generated from it).
    files: ['src/**/*.ts'],
    ignores: ['src/config.ts'],
    // no-restricted-properties also catches `const { env } = process`.
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'declare the setting in src/config.ts and read it from the configuration' }],
    },
  },
);
