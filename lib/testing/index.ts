export { serveForTesting, type ServeForTestingOptions, type TestingServer } from './serve-for-testing.js';
