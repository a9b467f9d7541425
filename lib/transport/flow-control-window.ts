import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { Http2Server, Http2Session, ServerOptions } from 'node:http2';

/** What of grpc-js's server this reaches into: the http2 options it binds with, and its http2 server factory. */
interface GrpcServerInternals {
  commonServerOptions?: ServerOptions;
  createHttp2Server?: (...args: unknown[]) => Http2Server;
}

/**
 * @internal Sets the HTTP/2 receive window (per stream and per connection) of
 * a grpc-js server before it binds.
 *
 * NOTE: grpc-js reads `grpc-node.flow_control_window` only in its client, so
 * the server's window goes in through the http2 settings grpc-js hands to
 * node:http2 (stream window) and a WINDOW_UPDATE on each new session
 * (connection window), as grpc-js's client does. Returns false, changing
 * nothing, if a grpc-js release no longer has these internals.
 */
export function applyFlowControlWindow(
  server: GrpcServer,
  bytes: number,
  onHttp2Server?: (http2Server: Http2Server) => void,
): boolean {
  const internals = server as unknown as GrpcServerInternals;
  const { commonServerOptions, createHttp2Server } = internals;
  if (!commonServerOptions || typeof createHttp2Server !== 'function') return false;
  commonServerOptions.settings = { ...commonServerOptions.settings, initialWindowSize: bytes };
  internals.createHttp2Server = (...args: unknown[]) => {
    const http2Server = createHttp2Server.apply(server, args);
    http2Server.on('session', (session: Http2Session) => widenConnectionWindow(session, bytes));
    onHttp2Server?.(http2Server);
    return http2Server;
  };
  return true;
}

function widenConnectionWindow(session: Http2Session, bytes: number): void {
  const widen = () => {
    if (!session.destroyed) session.setLocalWindowSize(bytes);
  };
  // The window can be set once the session is up; a server session usually is by now.
  if (session.connecting) session.once('connect', widen);
  else widen();
}
