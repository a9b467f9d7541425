/**
 * A health probe in a process of its own: a unary call every `intervalMs` on
 * its own HTTP/2 connection, timed here, so that the load process's busy
 * event loop does not inflate what the probe measures. Started by the load
 * process for each measured round; told 'stop', it answers with its latencies.
 */
import { connect, constants } from 'node:http2';

export interface ProbeOrder {
  address: string;
  path: string;
  /** Request message bytes, base64. */
  request: string;
  intervalMs: number;
}

export interface ProbeReport {
  latencies: number[];
  errors: number;
}

process.once('message', (order: ProbeOrder) => {
  const session = connect(`http://${order.address}`);
  session.on('error', () => undefined);
  const message = Buffer.from(order.request, 'base64');
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  const headers = {
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: order.path,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
  const report: ProbeReport = { latencies: [], errors: 0 };
  const inFlight = new Set<Promise<void>>();
  const probe = () => {
    const started = performance.now();
    const done = new Promise<void>((resolve) => {
      const stream = session.request(headers);
      let ok = true;
      stream.on('trailers', (trailers) => (ok = Number(trailers['grpc-status']) === 0));
      stream.on('data', () => undefined);
      stream.on('end', () => {
        if (ok) report.latencies.push(performance.now() - started);
        else report.errors++;
        resolve();
      });
      stream.on('error', () => {
        report.errors++;
        resolve();
      });
      stream.end(frame);
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
  const timer = setInterval(probe, order.intervalMs);
  process.once('message', async () => {
    clearInterval(timer);
    await Promise.all([...inFlight]);
    session.close();
    process.send!(report, () => process.exit(0));
  });
  process.send!('started');
});
