import type * as OnnxRuntime from 'onnxruntime-node';
import { ConfigurationError } from '../../core/errors/configuration.error.js';

/** The onnxruntime-node module, loaded on first use so the core library does not need it. */
export type OrtModule = typeof OnnxRuntime;

let loaded: Promise<OrtModule> | undefined;

/**
 * @internal Imports onnxruntime-node, an optional peer dependency; when it is
 * missing, says how to install it.
 */
export function loadOnnxRuntime(): Promise<OrtModule> {
  loaded ??= import('onnxruntime-node').catch((error: unknown) => {
    loaded = undefined;
    throw new ConfigurationError(
      'nestjs-blazerpc/onnx needs onnxruntime-node, which is not installed. Install it with `npm install onnxruntime-node` ' +
        `(offline: set ONNXRUNTIME_NODE_INSTALL=skip; the CPU binaries ship in the package). Cause: ${(error as Error).message}`,
      { cause: error },
    );
  });
  return loaded;
}
