const RUNTIME_TIMED = 'blazerpc:runtime-timed';

/**
 * @internal Marks a model method whose runtime reports each execution's time
 * itself (`BlazeMetrics.recordInferenceDuration`), e.g. an ONNX endpoint
 * timed by its worker: the server then does not time the call, which may
 * include waiting for a free instance.
 */
export function markTimedByRuntime(method: object): void {
  Reflect.defineMetadata(RUNTIME_TIMED, true, method);
}

/** @internal See `markTimedByRuntime`. */
export function isTimedByRuntime(method: object): boolean {
  return Reflect.getMetadata(RUNTIME_TIMED, method) === true;
}
