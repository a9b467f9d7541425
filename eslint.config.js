// Lint: typescript-eslint's recommended rules, type-only imports, no import cycles, and no floating promises.
// The layers of lib/, and cycles through type-only imports too, are dependency-cruiser's job
// (.dependency-cruiser.cjs, `npm run lint:layers`).
// Formatting is Prettier's job (`npm run format:check`).
import js from '@eslint/js';
import globals from 'globals';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'test/consumers/**',
      'test/fixtures/sample-models.generated.ts',
    ],
  },
  { languageOptions: { globals: globals.node } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    // Nest reads constructor parameter types from decorator metadata: an import used there is a
    // value, and consistent-type-imports must not turn it into a type-only one.
    languageOptions: { parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true } },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver()],
      // So no-cycle follows imports into TypeScript files too.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // `(...args: any[])` is how Nest types factories.
      '@typescript-eslint/no-explicit-any': ['error', { ignoreRestArgs: true }],
      'import-x/no-cycle': 'error',
      // TypeScript checks names itself; this rule does not know its globals and types.
      'no-undef': 'off',
    },
  },
  {
    // Type-aware rules for promise-heavy code: a promise nobody awaits loses its rejection.
    files: ['lib/**/*.ts', 'sample/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests and benches reach into untyped wire objects and stubs.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
