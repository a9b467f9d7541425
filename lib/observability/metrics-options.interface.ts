/** Prometheus metrics of `BlazeRpcModule.forRoot({ metrics })`. */
export interface BlazeMetricsOptions {
  /**
   * HTTP path of the scrape endpoint.
   * @default '/metrics'
   */
  path?: string;
  /**
   * Also collect prom-client's default process metrics (CPU, memory, event loop lag).
   * @default true
   */
  defaultMetrics?: boolean;
  /**
   * Serve the scrape endpoint on an HTTP server of its own, on this port,
   * instead of on the app's HTTP server: keeps process details off the port
   * the app exposes, and works in a gRPC-only app. `0` picks a free port
   * (read it from `MetricsEndpoint.port`).
   * @default undefined (the app's HTTP server)
   */
  port?: number;
  /**
   * Interface of that server (with `port`).
   * @default '0.0.0.0'
   */
  host?: string;
}
