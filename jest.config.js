/** ts-jest in ESM mode; run with NODE_OPTIONS=--experimental-vm-modules (see package.json). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Compiles src/ once for the processes tests start (test/helpers/compiled.ts).
  globalSetup: '<rootDir>/test/helpers/compiled.ts',
  setupFilesAfterEnv: ['<rootDir>/test/helpers/fast-check-seed.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 30000,
};
