import { BlazeRpcModule, ConfigurationError } from '../../lib/index.js';

// As if the app never installed the optional Prometheus peers.
jest.mock('prom-client', () => {
  throw Object.assign(new Error("Cannot find module 'prom-client'"), { code: 'MODULE_NOT_FOUND' });
});
jest.mock('@willsoto/nestjs-prometheus', () => {
  throw Object.assign(new Error("Cannot find module '@willsoto/nestjs-prometheus'"), { code: 'MODULE_NOT_FOUND' });
});

describe('metrics without the optional Prometheus peers installed', () => {
  it('metrics off: the module builds without loading them', () => {
    expect(() => BlazeRpcModule.forRoot({ metrics: false })).not.toThrow();
  });

  it('metrics on: startup fails with the install command', () => {
    let failure: unknown;
    try {
      BlazeRpcModule.forRoot({ metrics: true });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as Error).message).toBe(
      "BlazeRpcModule option 'metrics' needs prom-client and @willsoto/nestjs-prometheus, which are not installed. " +
        'Install them with `npm install prom-client @willsoto/nestjs-prometheus`, or leave metrics off.',
    );
  });
});
