// Lint config: typescript-eslint's recommended rules over sources, tests and benchmarks, plus the
// project's own boundaries: configuration is read only in src/config.ts, and functions in src/
// stay short enough to read whole (a warning past 80 lines, an error past 100).
import js from '@eslint/js';
import { builtinRules } from 'eslint/use-at-your-own-risk';
import tseslint from 'typescript-eslint';

const LINES = { skipBlankLines: true, skipComments: true };

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
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'declare the setting in src/config.ts and read it from the configuration' },
      ],
    },
  },
  {
    // One rule cannot both warn and fail, so the soft limit is the same core rule under a second name.
    files: ['src/**/*.ts'],
    plugins: { limits: { rules: { 'max-lines-per-function': builtinRules.get('max-lines-per-function') } } },
    rules: {
      'limits/max-lines-per-function': ['warn', { max: 80, ...LINES }],
      'max-lines-per-function': ['error', { max: 100, ...LINES }],
    },
  },
);
