import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BlazeClient, BlazeRpcClientError, BlazeRpcClientModule, InjectBlazeClient, Tensor } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { readIrisCsv } from '../../sample/iris/iris-data.js';
import { StreamModels } from '../fixtures/stream.models.js';
import { createTestCertificates } from '../helpers/certificates.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';
import { until } from '../helpers/time.js';

const failure = async (call: Promise<unknown>): Promise<BlazeRpcClientError> => {
  try {
    await call;
  } catch (error) {
    return error as BlazeRpcClientError;
  }
  throw new Error('expected the call to fail');
};

describe('BlazeClient against the sample, knowing nothing but the address', () => {
  let running: RunningApp;
  let client: BlazeClient;

  beforeAll(async () => {
    running = await startApp({ imports: [AppModule.forRoot(testServerOptions)], providers: [StreamModels] });
    client = await BlazeClient.connect(running.address, { timeoutMs: 5000 });
  });

  afterAll(async () => {
    client.close();
    await running.app.close();
  });

  it('discovers every model over reflection', () => {
    expect(client.models().map((m) => [m.name, m.rpc, m.streaming])).toEqual(
      expect.arrayContaining([
        ['Echo', 'PredictEcho', false],
        ['Tokens', 'PredictTokens', true],
        ['Iris', 'PredictIris', false],
        ['Secure', 'PredictSecure', false],
        ['Info', 'PredictInfo', false],
      ]),
    );
    const iris = client.models().find((m) => m.name === 'Iris')!;
    expect(iris.inputs).toEqual([{ name: 'features', kind: 'tensor', repeated: false, protoType: 'TYPE_MESSAGE' }]);
  });

  it('calls every sample model by its registered name', async () => {
    await expect(client.predict('echo', { text: 'hello' })).resolves.toBe('hello');
    await expect(client.predict('info', {})).resolves.toContain('method=/blazerpc.InferenceService/PredictInfo');
    const words: string[] = [];
    for await (const word of client.stream('tokens', { prompt: 'one two three' })) words.push(word as string);
    expect(words).toEqual(['one', 'two', 'three']);
    const [sample] = readIrisCsv('sample/iris/iris.csv');
    const probabilities = (await client.predict('iris', {
      features: new Tensor('float32', [1, 4], Float32Array.from(sample.features)),
    })) as Tensor;
    expect(probabilities.shape).toEqual([1, 3]);
    expect((probabilities.rows()[0] as number[])[0]).toBeGreaterThan(0.9);
  });

  it('sends metadata that reaches a guard, per call or by default', async () => {
    await expect(
      client.predict(
        'secure',
        { text: 'hi' },
        { metadata: { authorization: 'Bearer demo-token', 'x-client-id': 'cli' } },
      ),
    ).resolves.toBe('Hello cli, you said: hi');
    const authed = await BlazeClient.connect(running.address, { metadata: { authorization: 'Bearer demo-token' } });
    await expect(authed.predict('secure', { text: 'x' })).resolves.toContain('you said: x');
    authed.close();
  });

  it('raises typed errors with the status name, details and trailing metadata', async () => {
    const denied = await failure(client.predict('secure', { text: 'hi' }));
    expect(denied).toBeInstanceOf(BlazeRpcClientError);
    expect(denied.codeName).toBe('UNAUTHENTICATED');
    expect(denied.details).toContain('authorization');
    expect(denied.metadata).toBeDefined();
    const invalid = await failure(
      client.predict('iris', { features: new Tensor('float32', [1, 3], new Float32Array(3)) }),
    );
    expect(invalid.codeName).toBe('INVALID_ARGUMENT');
    const unknown = await failure(client.predict('nope', {}));
    expect(unknown.codeName).toBe('NOT_FOUND');
    expect(unknown.details).toContain('the server has: ');
  });

  it('refuses inputs of the wrong type before sending, naming the field', async () => {
    const wrong = (call: () => Promise<unknown>) =>
      call().then(
        () => undefined,
        (error: Error) => error,
      );
    await expect(wrong(() => client.predict('echo', { text: 42 } as never))).resolves.toMatchObject({
      message: "Input 'text' must be a string, got number",
    });
    await expect(wrong(() => client.predict('slow', { ms: 'soon' } as never))).resolves.toMatchObject({
      message: "Input 'ms' must be an integer, got string",
    });
  });

  it('raises DEADLINE_EXCEEDED when the deadline passes, for unary calls and streams', async () => {
    const unary = await failure(client.predict('slow', { ms: 300 }, { timeoutMs: 50 }));
    expect(unary.codeName).toBe('DEADLINE_EXCEEDED');
    const streamed = await failure(
      (async () => {
        for await (const _ of client.stream('ticks', {}, { timeoutMs: 60 })) void _;
      })(),
    );
    expect(streamed.codeName).toBe('DEADLINE_EXCEEDED');
  });

  it('cancels the call on the server when the loop breaks early', async () => {
    const models = running.app.get(StreamModels);
    models.events.length = 0;
    let seen = 0;
    for await (const _ of client.stream('ticks', {})) {
      if (++seen === 3) break;
    }
    await until(() => models.events.includes('aborted:1') && models.events.includes('finally'));
  });

  it('cancels the call when the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect((await failure(client.predict('slow', { ms: 500 }, { signal: controller.signal }))).codeName).toBe(
      'CANCELLED',
    );
    const streamed = await failure(
      (async () => {
        for await (const _ of client.stream('ticks', {}, { signal: controller.signal })) void _;
      })(),
    );
    expect(streamed.codeName).toBe('CANCELLED');
  });

  it('runs client interceptors on every call, and compresses with gzip', async () => {
    const paths: string[] = [];
    const recordPath: Interceptor = (options, next) => {
      paths.push(options.method_definition.path);
      return new InterceptingCall(next(options));
    };
    const intercepted = await BlazeClient.connect(running.address, { interceptors: [recordPath], compression: 'gzip' });
    await expect(intercepted.predict('echo', { text: 'z'.repeat(2000) })).resolves.toBe('z'.repeat(2000));
    expect(paths).toContain('/blazerpc.InferenceService/PredictEcho');
    intercepted.close();
  });

  it('reports health', async () => {
    await expect(client.health()).resolves.toBe('SERVING');
    await expect(client.health('iris')).resolves.toBe('SERVING');
    expect((await failure(client.health('nope'))).codeName).toBe('NOT_FOUND');
  });
});

describe('waitUntilReady', () => {
  it('fails while no server listens, and resolves once one starts', async () => {
    const probe = await startApp({ imports: [AppModule.forRoot(testServerOptions)] });
    const { port, registry } = probe;
    const proto = registry.protoText;
    await probe.app.close();

    const client = await BlazeClient.connect(`127.0.0.1:${port}`, { proto });
    const early = await failure(client.waitUntilReady({ timeoutMs: 300, intervalMs: 50 }));
    expect(early.codeName).toBe('DEADLINE_EXCEEDED');
    const starting = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return startApp({ imports: [AppModule.forRoot({ ...testServerOptions, port })] });
    })();
    await client.waitUntilReady({ timeoutMs: 10_000, intervalMs: 50 });
    await expect(client.predict('echo', { text: 'ready' })).resolves.toBe('ready');
    client.close();
    await (await starting).app.close();
  });
});

describe('TLS and mTLS', () => {
  const certs = createTestCertificates();

  it('serves over TLS to a client that trusts the CA', async () => {
    const running = await startApp({
      imports: [
        AppModule.forRoot({
          ...testServerOptions,
          credentials: { certChain: certs.serverCert, privateKey: certs.serverKey },
        }),
      ],
    });
    const client = await BlazeClient.connect(running.address, { tls: { rootCerts: certs.caCert } });
    await expect(client.predict('echo', { text: 'secret' })).resolves.toBe('secret');
    client.close();
    const plaintext = await failure(BlazeClient.connect(running.address, { timeoutMs: 1000 }));
    expect(plaintext.codeName).toBe('UNAVAILABLE');
    await running.app.close();
  });

  it('with mTLS, refuses a client without a certificate and serves one with', async () => {
    const running = await startApp({
      imports: [
        AppModule.forRoot({
          ...testServerOptions,
          credentials: {
            certChain: certs.serverCert,
            privateKey: certs.serverKey,
            rootCerts: certs.caCert,
            checkClientCertificate: true,
          },
        }),
      ],
    });
    const anonymous = await failure(
      BlazeClient.connect(running.address, { tls: { rootCerts: certs.caCert }, timeoutMs: 1000 }),
    );
    expect(anonymous.codeName).toBe('UNAVAILABLE');
    const client = await BlazeClient.connect(running.address, {
      tls: { rootCerts: certs.caCert, privateKey: certs.clientKey, certChain: certs.clientCert },
    });
    await expect(client.predict('echo', { text: 'mutual' })).resolves.toBe('mutual');
    client.close();
    await running.app.close();
  });
});

describe('BlazeRpcClientModule in a second Nest app', () => {
  it('injects a connected client, closed on shutdown', async () => {
    const server = await startApp({ imports: [AppModule.forRoot(testServerOptions)] });

    @Injectable()
    class Greeter {
      constructor(@InjectBlazeClient() private readonly models: BlazeClient) {}
      greet(name: string) {
        return this.models.predict('echo', { text: `hello ${name}` });
      }
    }

    @Module({
      imports: [BlazeRpcClientModule.register({ url: server.address, timeoutMs: 2000 })],
      providers: [Greeter],
    })
    class GatewayModule {}

    const gateway = await Test.createTestingModule({ imports: [GatewayModule] }).compile();
    await gateway.init();
    await expect(gateway.get(Greeter).greet('nest')).resolves.toBe('hello nest');
    await gateway.close();
    await server.app.close();
  });
});
