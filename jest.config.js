/** Jest runs TypeScript through SWC; `npm test` type-checks with tsc first. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.tools/', '/.data/', '/dist/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  // Temporal servers and PostgreSQL take a moment to start; individual tests stay fast.
  testTimeout: 60_000,
  maxWorkers: 2,
};
