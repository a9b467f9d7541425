/**
 * Bounds on what one request or one stream may make the server hold or do.
 * Every bound is checked before the work it protects (a count before a
 * split, a size before a copy), so a request over one is refused in
 * microseconds, and a stream that outruns its reader is slowed by HTTP/2
 * flow control instead of being buffered.
 */
export interface RequestLimits {
  /**
   * Requests one stream may have read but not yet answered, counting
   * responses the client has not read yet. At the bound the server stops
   * reading that stream, so HTTP/2 flow control holds the client back;
   * nothing already read is dropped. Applies to OIP `ModelStreamInfer` and
   * to streamed model inputs.
   * @default 64
   */
  maxPendingPerStream?: number;
  /**
   * Results a streaming model's Observable may push ahead of a client that
   * reads slower. An Observable cannot be paused, so beyond this the call
   * ends with `RESOURCE_EXHAUSTED`; an async generator never hits it (it is
   * asked for each result only when the client can take it).
   * @default 1024
   */
  maxBufferedResults?: number;
  /**
   * Bytes of unary request messages the server holds at once, over all
   * connections. grpc-js receives a message whole before the server sees
   * it, so this is checked on the message's length prefix, before its body
   * arrives: a request that would pass it is answered `RESOURCE_EXHAUSTED`
   * at once (one request is always admitted when none is held). Streaming
   * calls count their first message. Memory runs at about 2.5 times this.
   * @default 33554432 (32 MiB)
   */
  maxRequestBytesInFlight?: number;
  /**
   * Input tensors one request may carry: OIP `inputs` (and as many
   * `raw_input_contents` entries), and BlazeRPC tensors in list inputs.
   * @default 64
   */
  maxInputs?: number;
  /**
   * Outputs (OIP `outputs`) one request may ask for.
   * @default 64
   */
  maxOutputs?: number;
  /**
   * Parameters (OIP `parameters`, per request and per input or output) one request may carry, in all.
   * @default 64
   */
  maxParameters?: number;
  /**
   * Total bytes of the keys and string values of one request's parameters.
   * @default 65536 (64 KiB)
   */
  maxParameterBytes?: number;
  /**
   * BYTES (string) elements one request may carry, over all its inputs (and
   * BlazeRPC string and bytes list items). Each element is an object of its
   * own once decoded; at the default a request of empty strings still decodes
   * in about 20 ms of event-loop time.
   * @default 65536
   */
  maxBytesElements?: number;
}
