/**
 * Starts the OpenTelemetry Node SDK before Nest boots, but only when the
 * standard environment asks for traces: `OTEL_TRACES_EXPORTER` (e.g.
 * `console`, which prints each finished span to stdout, or `otlp`) or
 * `OTEL_EXPORTER_OTLP_ENDPOINT`. The SDK reads everything else (service name,
 * sampler, propagators) from the standard variables too. Without them nothing
 * is loaded and nothing changes.
 */
export async function startTracingFromEnvironment(): Promise<(() => Promise<void>) | undefined> {
  if (!process.env.OTEL_TRACES_EXPORTER && !process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ serviceName: process.env.OTEL_SERVICE_NAME ?? 'nestjs-blazerpc-sample' });
  sdk.start();
  return () => sdk.shutdown();
}
