import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { BlazeRpcModule } from '../../lib/index.js';
import { TextModels } from '../../sample/text/text.models.js';
import { BatchModels } from '../fixtures/batch.models.js';
import { TypedModels } from '../fixtures/typed.models.js';
import { serveForSuite, testServerOptions } from '../helpers/start-app.js';
import { readTensor } from '../helpers/tensor-message.js';
import { mutateBytes, seededRandom } from '../helpers/seeded-mutations.js';

const bytes = (...values: (number | string)[]) =>
  Buffer.concat(values.map((value) => (typeof value === 'string' ? Buffer.from(value) : Buffer.from([value]))));

/** What a client gets for raw request bytes: OK with the response bytes, or the status. */
type Outcome = { code: grpc.status; response?: Buffer; details?: string };

describe('strict request decoding', () => {
  const suite = serveForSuite({
    imports: [BlazeRpcModule.forRoot(testServerOptions)],
    providers: [TextModels, BatchModels, TypedModels],
  });

  const send = (rpc: string, request: Buffer) =>
    new Promise<Outcome>((resolve) =>
      suite.client.raw.makeUnaryRequest(
        `/blazerpc.InferenceService/${rpc}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        request,
        (error, response) =>
          resolve(error ? { code: error.code, details: error.details } : { code: grpc.status.OK, response }),
      ),
    );

  it.each([
    ['a length-delimited field cut short', bytes(0x0a, 0x05, 'ab')],
    ['wire type 6', bytes(0x0e, 0x00)],
    ['wire type 7', bytes(0x0f, 0x00)],
    ['an overlong varint', bytes(0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)],
    ['a length past the end', bytes(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a')],
    ['a varint for a string field', bytes(0x08, 0x01)],
    ['invalid UTF-8 in a string', bytes(0x0a, 0x02, 0xc3, 0x28)],
    ['field number 0', bytes(0x00, 0x01)],
    ['a varint cut off', bytes(0x28, 0x80)],
    ['a tag cut off', bytes(0x80)],
    ['a fixed64 past the end', bytes(0x29, 0x01, 0x02)],
    ['a group end with no start', bytes(0x2c)],
  ])('refuses %s with INVALID_ARGUMENT naming the message type', async (_case, request) => {
    const outcome = await send('PredictEcho', request);
    expect(outcome.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(outcome.details).toMatch(/^Malformed EchoRequest message: /);
  });

  it('accepts unknown fields of every wire type, and answers as if they were absent', async () => {
    const unknown = bytes(
      0x28,
      0x05,
      0x31,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      0x35,
      1,
      2,
      3,
      4,
      0x3a,
      0x01,
      'z',
      0x43,
      0x48,
      0x01,
      0x44,
    );
    const outcome = await send('PredictEcho', Buffer.concat([bytes(0x0a, 0x02, 'hi'), unknown]));
    expect(outcome.code).toBe(grpc.status.OK);
    expect(outcome.response).toEqual(bytes(0x0a, 0x02, 'hi'));
  });

  it('merges a tensor field sent twice, as proto3 requires, instead of keeping the last', async () => {
    const root = protobuf.parse(suite.running.registry.protoText, { keepCase: true }).root;
    const Tensor = root.lookupType('blazerpc.TensorProto');
    const first = Tensor.encode({ shape: [1, 2] }).finish();
    const second = Tensor.encode({ dtype: 'float', data: Buffer.from(new Float32Array([1.5, 2.5]).buffer) }).finish();
    const field = (part: Uint8Array) => Buffer.concat([bytes(0x0a, part.length), Buffer.from(part)]);
    const outcome = await send('PredictDouble', Buffer.concat([field(first), field(second)]));
    expect(outcome.code).toBe(grpc.status.OK);
    const Response = root.lookupType('blazerpc.DoubleResponse');
    const response = Response.toObject(Response.decode(outcome.response!), { longs: String }) as { result: any };
    expect(
      Array.from(readTensor({ ...response.result, shape: response.result.shape.map(String) }).data as Float32Array),
    ).toEqual([3, 5]);
  });

  it('fuzz: 10,000 seeded mutations of valid requests are each OK with a valid response, or INVALID_ARGUMENT; the server lives', async () => {
    const root = protobuf.parse(suite.running.registry.protoText, { keepCase: true }).root;
    const seeds: [string, string, Uint8Array][] = [
      ['PredictEcho', 'EchoRequest', root.lookupType('blazerpc.EchoRequest').encode({ text: 'héllo wörld' }).finish()],
      [
        'PredictJoin',
        'JoinRequest',
        root
          .lookupType('blazerpc.JoinRequest')
          .encode({ words: ['a', 'bc'], separator: '-' })
          .finish(),
      ],
      [
        'PredictNextId',
        'NextIdRequest',
        root.lookupType('blazerpc.NextIdRequest').encode({ id: '9007199254740993' }).finish(),
      ],
      [
        'PredictDouble',
        'DoubleRequest',
        root
          .lookupType('blazerpc.DoubleRequest')
          .encode({ x: { shape: [2, 2], dtype: 'float', data: Buffer.from(new Float32Array([1, 2, 3, 4]).buffer) } })
          .finish(),
      ],
    ];
    const random = seededRandom(0x9e3779b9);
    const mutate = (original: Uint8Array) => mutateBytes(original, random);
    const counts = { ok: 0, invalid: 0 };
    const other: Outcome[] = [];
    for (let batch = 0; batch < 100; batch++) {
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, async () => {
          const [rpc, , seed] = seeds[random(seeds.length)];
          const outcome = await send(rpc, mutate(seed));
          if (outcome.code === grpc.status.OK) {
            const responseType = root.lookupType(`blazerpc.${rpc.slice('Predict'.length)}Response`);
            const decoded = responseType.decode(outcome.response!);
            expect(responseType.verify(decoded)).toBeNull();
            const again = responseType.decode(responseType.encode(decoded).finish());
            expect(responseType.toObject(again, { longs: String, defaults: true })).toEqual(
              responseType.toObject(decoded, { longs: String, defaults: true }),
            );
          }
          return outcome;
        }),
      );
      for (const outcome of outcomes) {
        if (outcome.code === grpc.status.OK) counts.ok++;
        else if (outcome.code === grpc.status.INVALID_ARGUMENT) counts.invalid++;
        else other.push(outcome);
      }
    }
    expect(other).toEqual([]);
    expect(counts.ok + counts.invalid).toBe(10_000);
    expect(counts.ok).toBeGreaterThan(100);
    expect(counts.invalid).toBeGreaterThan(1000);
    const alive = await send('PredictEcho', bytes(0x0a, 0x02, 'ok'));
    expect(alive).toMatchObject({ code: grpc.status.OK });
  }, 60_000);
});
