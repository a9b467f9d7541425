import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the endpoint serves: a prom-client registry, described here so this public type needs no prom-client types. */
interface ScrapeSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/**
 * The scrape endpoint on an HTTP server of its own (`metrics: { port }`):
 * `GET <path>` answers prom-client's registry; anything else is 404.
 */
@Injectable()
export class MetricsEndpoint implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BlazeRpcMetrics');
  private server?: Server;

  constructor(
    private readonly settings: {
      readonly path: string;
      readonly port: number;
      readonly host: string;
      readonly registry: ScrapeSource;
    },
  ) {}

  /** The port it listens on (the real one when port 0 was asked for). */
  get port(): number {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('The metrics endpoint is not listening');
    return address.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { path, port, host, registry } = this.settings;
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== path) {
        response.writeHead(404).end();
        return;
      }
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.logger.log(`Metrics on http://${host}:${this.port}${path}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
