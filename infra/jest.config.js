/**
 * ts-jest with this folder's tsconfig.json (TypeScript 5.9). tsconfig sets isolatedModules, so
 * ts-jest transpiles file by file without type-checking; `npm run build` (tsc) type-checks bin/,
 * lib/ and test/. The stack is synthesized once per test file in beforeAll: a run takes a few seconds.
 *
 * jest 29 rather than 30: jest 30 pulls in native optional packages (unrs-resolver bindings)
 * whose other-platform builds the package mirror here lacks, which makes `npm ci` reject the lockfile.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60000,
};
