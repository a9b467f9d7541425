/**
 * Jest runs TypeScript and Nest's ESM-only packages through SWC as CommonJS.
 * Type-checking is done separately by `npm run typecheck`.
 */
const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
};

export default {
  testEnvironment: '<rootDir>/test/jest-environment.cjs',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // The consumer apps run against the packed tarball (test/consumers/smoke-test.sh), not the sources.
  testPathIgnorePatterns: ['/node_modules/', '/test/consumers/'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', swcOptions] },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 20000,
};
