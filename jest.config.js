// Native ESM (our dependencies are ESM-only) with @swc/jest: it strips types per file in
// milliseconds; type checking is `tsc`'s job (npm run typecheck), not the test runner's.
/** @type {import('jest').Config} */
const project = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } },
    ],
  },
  // Synth output holds staged copies of the sources; the build output holds compiled ones.
  modulePathIgnorePatterns: ['<rootDir>/cdk.out/', '<rootDir>/dist/'],
  setupFiles: ['<rootDir>/test/support/fast-check-seed.ts'],
};

/**
 * One project per layer, each runnable alone (`npm run test:unit`, or `npm run jest -- --selectProjects unit`).
 * Only `integration` starts the S3 + SQS emulator, and jest runs a project's globalSetup only when at least
 * one of its tests is selected.
 * @type {import('jest').Config}
 */
export default {
  testTimeout: 30_000,
  projects: [
    { ...project, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...project,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    { ...project, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
  ],
};
