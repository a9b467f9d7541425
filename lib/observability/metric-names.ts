/** Names of the metrics BlazeRpcModule exports to Prometheus. */
export const METRIC = {
  requestsTotal: 'blazerpc_requests_total',
  requestDuration: 'blazerpc_request_duration_seconds',
  inferenceCount: 'blazerpc_inferences_total',
  inferenceExecCount: 'blazerpc_inference_executions_total',
  batchSize: 'blazerpc_batch_size',
  queueWait: 'blazerpc_queue_wait_seconds',
  queueDepth: 'blazerpc_queue_depth',
  inferenceDuration: 'blazerpc_inference_duration_seconds',
  eventLoopDelay: 'blazerpc_event_loop_delay_seconds',
  streamMessages: 'blazerpc_stream_messages_total',
  timeToFirstResponse: 'blazerpc_time_to_first_response_seconds',
} as const;
