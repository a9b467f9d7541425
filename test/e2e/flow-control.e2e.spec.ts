import { connect, type ClientHttp2Session } from 'node:http2';
import { BlazeRpcModule } from '../../lib/index.js';
import { TextModels } from '../../sample/text/text.models.js';
import { startApp, testServerOptions } from '../helpers/start-app.js';

/** What a client learns of the server's receive windows: the stream window (SETTINGS) and the connection window (WINDOW_UPDATE). */
async function windowsOf(address: string): Promise<{ stream: number; connection: number }> {
  const session: ClientHttp2Session = connect(`http://${address}`);
  try {
    const settings = await new Promise<{ initialWindowSize?: number }>((resolve) =>
      session.once('remoteSettings', resolve),
    );
    // The connection window arrives as a WINDOW_UPDATE right after the settings.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { stream: settings.initialWindowSize ?? 65535, connection: session.state.remoteWindowSize ?? 0 };
  } finally {
    session.close();
  }
}

describe('HTTP/2 flow control window (flowControlWindow)', () => {
  it('opens 16 MiB per stream and per connection by default, so one connection carries many tensors at once', async () => {
    const running = await startApp({ imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [TextModels] });
    try {
      expect(await windowsOf(running.address)).toEqual({ stream: 16 * 1024 * 1024, connection: 16 * 1024 * 1024 });
    } finally {
      await running.app.close();
    }
  });

  it('takes the configured size', async () => {
    const running = await startApp({
      imports: [BlazeRpcModule.forRoot({ ...testServerOptions, flowControlWindow: 1 << 20 })],
      providers: [TextModels],
    });
    try {
      expect(await windowsOf(running.address)).toEqual({ stream: 1 << 20, connection: 1 << 20 });
    } finally {
      await running.app.close();
    }
  });
});
