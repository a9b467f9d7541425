/**
 * A Jest test environment for apps that test ONNX models: use it with
 * `testEnvironment: 'nestjs-blazerpc/testing/jest-environment'` in jest.config.
 *
 * Jest runs each test file in its own VM realm, so typed arrays made by
 * native code (onnxruntime-node) fail `instanceof Float32Array` checks made
 * in the test realm, inside onnxruntime-common itself. Sharing the host's
 * typed-array constructors with the test realm makes them one kind again.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;
