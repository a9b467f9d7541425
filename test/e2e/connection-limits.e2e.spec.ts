import { connect, constants, type ClientHttp2Session } from 'node:http2';
import protobuf from 'protobufjs';
import { BlazeRpcModule } from '../../lib/index.js';
import { SlowModels } from '../fixtures/slow.models.js';
import { startApp, testServerOptions } from '../helpers/start-app.js';

describe('connection limits', () => {
  it('maxConcurrentStreams: a third call on one connection waits until one of two open calls finishes', async () => {
    const running = await startApp({
      imports: [BlazeRpcModule.forRoot({ ...testServerOptions, maxConcurrentStreams: 2 })],
      providers: [SlowModels],
    });
    const session: ClientHttp2Session = connect(`http://${running.address}`);
    try {
      await new Promise((resolve) => session.once('remoteSettings', resolve));
      expect(session.remoteSettings.maxConcurrentStreams).toBe(2);
      const message = Buffer.from(
        protobuf
          .parse(running.registry.protoText, { keepCase: true })
          .root.lookupType('blazerpc.NapRequest')
          .encode({ ms: 300 })
          .finish(),
      );
      const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
      const started = performance.now();
      const nap = () =>
        new Promise<{ status: string; ms: number }>((resolve) => {
          const stream = session.request({
            [constants.HTTP2_HEADER_METHOD]: 'POST',
            [constants.HTTP2_HEADER_PATH]: '/blazerpc.InferenceService/PredictNap',
            'content-type': 'application/grpc',
            te: 'trailers',
          });
          let status = '';
          stream.on('trailers', (trailers) => (status = String(trailers['grpc-status'])));
          stream.on('data', () => undefined);
          stream.on('close', () => resolve({ status, ms: performance.now() - started }));
          stream.end(frame);
        });
      const [first, second, third] = await Promise.all([nap(), nap(), nap()]);
      expect([first.status, second.status, third.status]).toEqual(['0', '0', '0']);
      expect(Math.max(first.ms, second.ms)).toBeLessThan(550);
      expect(third.ms).toBeGreaterThanOrEqual(590);
    } finally {
      session.close();
      await running.app.close();
    }
  });
});
