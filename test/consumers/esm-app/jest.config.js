// Jest runs TypeScript, and Nest's and nestjs-blazerpc's ES modules, through SWC as CommonJS.
export default {
  testEnvironment: 'nestjs-blazerpc/testing/jest-environment',
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|nestjs-blazerpc)/)'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};
