/** Prometheus metrics of `BlazeRpcModule.forRoot({ metrics })`. */
export interface BlazeMetricsOptions {
  /**
   * HTTP path of the scrape endpoint (served by the app's HTTP server).
   * @default '/metrics'
   */
  path?: string;
  /**
   * Also collect prom-client's default process metrics (CPU, memory, event loop lag).
   * @default true
   */
  defaultMetrics?: boolean;
}
