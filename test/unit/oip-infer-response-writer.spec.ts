import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { writeInferResponse, type InferResponseParts } from '../../lib/protocols/oip/oip-infer-response.writer.js';
import type { InferOutputMessage } from '../../lib/protocols/oip/oip-infer.codec.js';
import { DTYPE_TO_OIP } from '../../lib/protocols/shared/oip-datatype.js';
import { OIP_PROTO, OIP_SERVICE } from '../../lib/protocols/shared/oip.proto.js';
import { packageDefinitionOf, parseProto } from '../../lib/core/schema/package-definition.js';
import { seededRandom } from '../helpers/seeded-mutations.js';

// As the OIP front end does: the service's grpc-js definition, whose ModelInfer serializer answered before the writer.
const service = packageDefinitionOf(parseProto(OIP_PROTO))[OIP_SERVICE] as ServiceDefinition;
const serialize = (service.ModelInfer as MethodDefinition<object, object>).responseSerialize;

/** What proto-loader's serializer (protobufjs fromObject + encode) writes for the response. */
const protobufBytes = (response: InferResponseParts) => serialize(response);

const DATATYPES = [...new Set(Object.values(DTYPE_TO_OIP)), 'BYTES' as const];
const output = (name: string, datatype: InferOutputMessage['datatype'], shape: number[]): InferOutputMessage => ({
  name,
  datatype,
  shape,
});
const response = (parts: Partial<InferResponseParts>): InferResponseParts => ({
  model_name: 'iris',
  model_version: '1',
  id: 'req-1',
  outputs: [output('scores', 'FP32', [1, 3])],
  raw_output_contents: [new Uint8Array(new Float32Array([0.1, 0.7, 0.2]).buffer)],
  ...parts,
});

describe('writeInferResponse', () => {
  it.each<[string, InferResponseParts]>([
    ['one FP32 output', response({})],
    ['empty model version and id (still written)', response({ model_version: '', id: '' })],
    ['no outputs', response({ outputs: [], raw_output_contents: [] })],
    [
      'a scalar output (empty shape) and empty raw data',
      response({ outputs: [output('s', 'INT64', [])], raw_output_contents: [new Uint8Array(0)] }),
    ],
    [
      'several outputs, large dimensions and data (multi-byte varints)',
      response({
        outputs: [output('labels', 'BYTES', [2]), output('image', 'UINT8', [1, 300, 70]), output('p', 'FP64', [0, 5])],
        raw_output_contents: [
          Buffer.from('\u0001\u0000\u0000\u0000a\u0002\u0000\u0000\u0000bc'),
          new Uint8Array(21_000).map((_, i) => i),
          new Uint8Array(0),
        ],
      }),
    ],
    [
      'non-ASCII names and id',
      response({ model_name: 'modèle', id: 'запрос-№1', outputs: [output('sortie…', 'FP32', [3])] }),
    ],
    ['a long id (protobufjs writes 40+ characters another way)', response({ id: 'x'.repeat(300) })],
    [
      'raw data at an offset of a larger buffer',
      response({ raw_output_contents: [Buffer.from(new Uint8Array(64).map((_, i) => i)).subarray(5, 17)] }),
    ],
  ])('writes %s exactly as protobufjs does', (_case, parts) => {
    expect(writeInferResponse(parts)).toEqual(protobufBytes(parts));
  });

  it('writes random responses exactly as protobufjs does', () => {
    const random = seededRandom(11);
    const text = (length: number) =>
      Array.from({ length }, () =>
        String.fromCharCode(
          random(3) === 0 ? (random(2) ? 0xa0 + random(0x700) : 0x800 + random(0xd000)) : 0x20 + random(95),
        ),
      ).join('');
    for (let i = 0; i < 2000; i++) {
      const outputs = Array.from({ length: random(4) }, () =>
        output(
          text(random(20)),
          DATATYPES[random(DATATYPES.length)],
          Array.from({ length: random(5) }, () => random(i % 10 === 0 ? 1_000_000 : 300)),
        ),
      );
      const parts = response({
        model_name: text(1 + random(30)),
        model_version: text(random(4)),
        id: text(random(i % 7 === 0 ? 200 : 12)),
        outputs,
        raw_output_contents: Array.from({ length: random(4) }, () =>
          new Uint8Array(random(i % 13 === 0 ? 5000 : 40)).map(() => random(256)),
        ),
      });
      const [ours, theirs] = [writeInferResponse(parts)!, protobufBytes(parts)];
      if (!ours.equals(theirs)) expect(ours.toString('hex')).toBe(theirs.toString('hex'));
    }
  });

  it.each([[[-1, 2]], [[1.5, 2]], [[2 ** 53, 0]]])('leaves shape %j to protobufjs', (shape) => {
    expect(writeInferResponse(response({ outputs: [output('scores', 'FP32', shape)] }))).toBeUndefined();
  });

  it.each([['\ud83d\ude00'], ['lone \ud800'], ['lone \udc00']])(
    'leaves a string with surrogates (%j) to protobufjs',
    (id) => {
      expect(writeInferResponse(response({ id }))).toBeUndefined();
      expect(writeInferResponse(response({ outputs: [output(id, 'FP32', [3])] }))).toBeUndefined();
    },
  );
});
