// SPDX-License-Identifier: MIT
// Type-aware lint with a small set of rules, each of which catches a real bug rather than a matter of taste:
// promises nobody awaits or that land where a callback's return is ignored, `await` on what is not a
// promise, values typed `any` flowing unchecked into typed code, throwing or rejecting with what is not an
// Error, objects stringified as '[object Object]', unused variables. `npm run lint` runs it (with
// clang-format and clang-tidy for native/); .ci/run runs that before the tests.
import tseslint from 'typescript-eslint';

const promiseRules = {
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/no-misused-promises': 'error',
  '@typescript-eslint/await-thenable': 'error',
  // Passing on a caught value as it came (`catch (err) { return Promise.reject(err) }`) is not a bug.
  '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
  '@typescript-eslint/only-throw-error': 'error',
};

const unusedVars = ['error', {
  // `using _guard = await lock.lock()` holds a lock for a scope and is never read: a leading _ says so.
  varsIgnorePattern: '^_', argsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true,
}];

export default [
  { ignores: ['dist/', 'node_modules/', 'build/', 'prebuilds/', 'docs/api/'] },
  {
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        projectService: {
          // The .mjs scripts, benches and test fixtures are outside tsconfig.json; they are checked on
          // their own, untyped, so only the promise rules apply to them.
          allowDefaultProject: ['*.js', '*/*.mjs', '*/*/*.mjs', '*/*/*/*.mjs'],
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 40,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    rules: { ...promiseRules, '@typescript-eslint/no-unused-vars': unusedVars },
  },
  {
    files: ['**/*.ts'],
    rules: {
      ...promiseRules,
      '@typescript-eslint/no-unused-vars': unusedVars,
      '@typescript-eslint/no-base-to-string': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
    },
  },
  {
    // vitest's asymmetric matchers (expect.objectContaining, expect.stringMatching...) are typed `any` by
    // design, so assigning or returning one is not a leak of `any` into typed code.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off', '@typescript-eslint/no-unsafe-return': 'off' },
  },
];
