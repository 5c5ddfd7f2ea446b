// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'docs/api/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Node scripts (the docs check, the bench's plain-JS client).
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { URL: 'readonly', console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', require: 'readonly' } },
  },
  {
    // The ssh2 fence: only lib/ssh2/ imports ssh2 or requires its internals (ssh2/lib/*).
    files: ['lib/**/*.ts'],
    ignores: ['lib/ssh2/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^ssh2(/|$)', message: 'ssh2 is reached through lib/ssh2/ only (the fence; see lib/ssh2/MANIFEST.md).' }] }],
      'no-restricted-syntax': ['error', { selector: 'Literal[value=/^ssh2(\\/|$)/]', message: 'ssh2 is reached through lib/ssh2/ only (the fence; see lib/ssh2/MANIFEST.md).' }],
    },
  },
  {
    // The CLI is a user of the library: it imports the public entry points (and util/'s
    // layer-free helpers), never a layer's internals, so what it can do a user can do too.
    files: ['lib/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^ssh2(/|$)', message: 'ssh2 is reached through lib/ssh2/ only.' },
            { regex: '^\\.\\./(?!(index|fleet/index|queue/index|testing/index)\\.js$|util/)', message: 'the CLI imports rxssh, rxssh/fleet, rxssh/queue or rxssh/testing (lib/*/index.js), or util/.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'Literal[value=/^ssh2(\\/|$)/]', message: 'ssh2 is reached through lib/ssh2/ only.' },
        { selector: 'ImportExpression[source.value=/^\\.\\.\\/(?!(index|fleet\\/index|queue\\/index|testing\\/index)\\.js$|util\\/)/]', message: 'the CLI imports the public entry points (lib/*/index.js) or util/.' },
      ],
    },
  },
  {
    // Issue 23's layout: one concept per file, about 300 lines at most (code, not comments);
    // a function over 60 lines of code says why on the line before it:
    // `// eslint-disable-next-line max-lines-per-function -- Long by design: …`.
    files: ['lib/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // ssh2's internals are untyped: the fence may use `any`, and says so in each file.
    files: ['lib/ssh2/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
