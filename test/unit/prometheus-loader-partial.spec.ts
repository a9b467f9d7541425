import { BlazeRpcModule, ConfigurationError } from '../../lib/index.js';

// As if the app installed @willsoto/nestjs-prometheus but not prom-client, which it requires.
jest.mock('prom-client', () => {
  throw Object.assign(new Error("Cannot find module 'prom-client'"), { code: 'MODULE_NOT_FOUND' });
});
jest.mock('@willsoto/nestjs-prometheus', () => {
  throw Object.assign(
    new Error("Cannot find module 'prom-client'\nRequire stack:\n- .../@willsoto/nestjs-prometheus/dist/index.js"),
    {
      code: 'MODULE_NOT_FOUND',
    },
  );
});

describe('metrics with only one of the Prometheus peers installed', () => {
  it('names exactly the missing package, and the command that installs it', () => {
    const startMetrics = () => BlazeRpcModule.forRoot({ metrics: true });
    expect(startMetrics).toThrow(ConfigurationError);
    expect(startMetrics).toThrow(
      "BlazeRpcModule option 'metrics' needs prom-client, which is not installed. Install it with `npm install prom-client`, or leave metrics off.",
    );
  });
});
