/**
 * The ONNX bench's baseline: what a minimal hand-written server looks like.
 * @grpc/grpc-js with raw serializers, protobufjs to decode the request and
 * encode the response (the same messages the library generates for the
 * model), and `session.run` on the main thread, one request per run. No
 * batching, no validation beyond what ORT does, grpc-js default HTTP/2 windows.
 * It also answers `grpc.health.v1.Health/Check` with SERVING, so health probes
 * have a baseline too.
 */
import * as grpc from '@grpc/grpc-js';
import ort from 'onnxruntime-node';
import protobuf from 'protobufjs';

/** The wire contract the library generates for an ONNX model with one tensor input and one tensor output. */
export const CNN_PROTO = `
syntax = "proto3";
package blazerpc;
message TensorProto { repeated int64 shape = 1; string dtype = 2; bytes data = 3; }
message CnnRequest { TensorProto x = 1; }
message CnnResponse { TensorProto result = 1; }
`;
export const CNN_METHOD = '/blazerpc.InferenceService/PredictCnn';
export const HEALTH_CHECK_METHOD = '/grpc.health.v1.Health/Check';

interface TensorMessage {
  shape: (number | { toString(): string })[];
  dtype: string;
  data: Uint8Array;
}

export async function startBaselineServer(modelPath: string, sessionOptions: ort.InferenceSession.SessionOptions) {
  const session = await ort.InferenceSession.create(modelPath, { ...sessionOptions, executionProviders: ['cpu'] });
  const [inputName, outputName] = [session.inputNames[0], session.outputNames[0]];
  const root = protobuf.parse(CNN_PROTO, { keepCase: true }).root;
  const [Request, Response] = [root.lookupType('blazerpc.CnnRequest'), root.lookupType('blazerpc.CnnResponse')];

  const server = new grpc.Server({ 'grpc.max_receive_message_length': -1 });
  const predict = async (
    call: grpc.ServerUnaryCall<{ x: TensorMessage }, unknown>,
    callback: grpc.sendUnaryData<unknown>,
  ) => {
    try {
      const { shape, data } = call.request.x;
      // Float32Array needs 4-byte alignment; copy only when the bytes are not aligned.
      const floats =
        data.byteOffset % 4 === 0
          ? new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4)
          : new Float32Array(new Uint8Array(data).buffer);
      const results = await session.run({ [inputName]: new ort.Tensor('float32', floats, shape.map(Number)) });
      const output = results[outputName];
      const bytes = output.data as Float32Array;
      callback(null, {
        result: {
          shape: output.dims,
          dtype: 'float',
          data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        },
      });
    } catch (error) {
      callback({ code: grpc.status.INTERNAL, details: String(error) });
    }
  };
  server.register(
    CNN_METHOD,
    predict,
    (m: unknown) => Buffer.from(Response.encode(m as object).finish()),
    (b: Buffer) => Request.decode(b) as never,
    'unary',
  );
  const serving = Buffer.from([0x08, 0x01]); // HealthCheckResponse { status: SERVING }
  server.register(
    HEALTH_CHECK_METHOD,
    (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, serving),
    (b: Buffer) => b,
    (b: Buffer) => b,
    'unary',
  );

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    async close() {
      server.forceShutdown();
      await session.release();
    },
  };
}
