import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { Tensor } from '../../lib/index.js';
import { TensorResponseWriter } from '../../lib/protocols/blazerpc/tensor-response.writer.js';
import type { ModelFieldSpec } from '../../lib/core/schema/model-descriptor.interface.js';
import { loadPackageDefinition } from '../../lib/core/schema/package-definition.js';
import { encodeTensorProto } from '../../lib/protocols/shared/tensor-proto.codec.js';
import { seededRandom } from '../helpers/seeded-mutations.js';

// As the server does: .proto text to a grpc-js package definition, whose serializer grpc-js would call.
const PROTO = `syntax = "proto3"; package t;
message TensorProto { repeated int64 shape = 1; string dtype = 2; bytes data = 3; }
message PairResponse { TensorProto scores = 1; TensorProto labels = 2; }
service S { rpc Pair(PairResponse) returns (PairResponse); }`;
const service = loadPackageDefinition(PROTO)['t.S'] as ServiceDefinition;
const serialize = (service.Pair as MethodDefinition<object, object>).responseSerialize;
const tensorField = (name: string, number: number): ModelFieldSpec => ({
  name,
  number,
  type: { kind: 'tensor', spec: Tensor.of('float32', ['n']) },
});
// Declared in another order than their field numbers: both write in field-number order.
const outputs = [tensorField('labels', 2), tensorField('scores', 1)];
const writer = new TensorResponseWriter(outputs);

/** What grpc-js's serializer (proto-loader's protobufjs) writes for the message. */
const protobufBytes = (message: object) => serialize(message);

describe('TensorResponseWriter', () => {
  it('serves models whose every output is a singular tensor', () => {
    expect(TensorResponseWriter.serves(outputs)).toBe(true);
    expect(TensorResponseWriter.serves([])).toBe(false);
    expect(TensorResponseWriter.serves([tensorField('x', 16)])).toBe(false);
    expect(
      TensorResponseWriter.serves([{ name: 'text', number: 1, type: { kind: 'scalar', protoType: 'string' } }]),
    ).toBe(false);
  });

  it.each([
    [
      'a [1, 16] float',
      new Tensor(
        'float32',
        [1, 16],
        new Float32Array(16).map((_, i) => i / 7),
      ),
    ],
    ['a scalar (empty shape)', Tensor.from('double', [], [42])],
    ['an empty tensor', new Tensor('float32', [0, 4], new Float32Array(0))],
    [
      'large dimensions and data (multi-byte varints)',
      new Tensor(
        'uint8',
        [1, 300, 70],
        new Uint8Array(21_000).map((_, i) => i),
      ),
    ],
    ['a float16 tensor', Tensor.from('float16', [2], [0x3c00, 0xc000])],
    ['a bool tensor', Tensor.from('bool', [3], [true, false, true])],
  ])('writes %s exactly as protobufjs does', (_case, tensor) => {
    const message = {
      scores: encodeTensorProto(tensor),
      labels: encodeTensorProto(Tensor.from('int64', [2], [5n, -1n])),
    };
    expect(writer.write(message)).toEqual(protobufBytes(message));
  });

  it('writes random shapes and sizes exactly as protobufjs does', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const shape = Array.from({ length: random(4) }, () => random(i % 10 === 0 ? 3000 : 6));
      const size = shape.reduce((a, b) => a * b, 1);
      if (size > 100_000) continue;
      const tensor = new Tensor('uint8', shape, new Uint8Array(size));
      const message = {
        labels: encodeTensorProto(tensor),
        scores: encodeTensorProto(new Tensor('float32', [size % 5], new Float32Array(size % 5))),
      };
      const [ours, theirs] = [writer.write(message)!, protobufBytes(message)];
      if (!ours.equals(theirs)) expect(ours.toString('hex')).toBe(theirs.toString('hex'));
    }
  });

  it.each([[[-1, 2]], [[1.5, 2]], [[2 ** 53, 0]]])('leaves shape %j to protobufjs', (shape) => {
    const odd = { shape, dtype: 'float', data: new Uint8Array(8) };
    expect(writer.write({ scores: odd, labels: odd })).toBeUndefined();
  });
});
