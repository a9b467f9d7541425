/** Settings the sample reads from the environment. */
export const sampleConfig = {
  /** gRPC port: `GRPC_PORT`, else `PORT`, else 50051. */
  grpcPort: () => Number(process.env.GRPC_PORT ?? process.env.PORT ?? 50051),
  /** HTTP port (for /metrics and /models): `HTTP_PORT`, else 3000. */
  httpPort: () => Number(process.env.HTTP_PORT ?? 3000),
  /**
   * HTTP interface: `HTTP_HOST`, else loopback only. `/metrics` shows process details; expose it
   * (e.g. `HTTP_HOST=0.0.0.0` for a Prometheus scraper) only on a network you trust.
   */
  httpHost: () => process.env.HTTP_HOST ?? '127.0.0.1',
  /** The iris ONNX model: `IRIS_MODEL_PATH`, else the one `npm run train:iris` writes. */
  irisModelPath: () => process.env.IRIS_MODEL_PATH ?? 'sample/iris/iris.onnx',
  /** How long in-flight calls may run on shutdown, in ms: `GRACE_MS`, else 5000. */
  gracePeriodMs: () => Number(process.env.GRACE_MS ?? 5000),
  /** Where to write the generated .proto: `PROTO_FILE`, else `blazerpc.proto`; empty writes none (read-only file systems). */
  protoFile: (): string | false =>
    process.env.PROTO_FILE === undefined ? 'blazerpc.proto' : process.env.PROTO_FILE || false,
  /** Token the `secure` model accepts: `SAMPLE_API_TOKEN`, else `demo-token`. */
  apiToken: () => process.env.SAMPLE_API_TOKEN ?? 'demo-token',
};
