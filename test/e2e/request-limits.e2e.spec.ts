import * as grpc from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { BlazeContext, BlazeRpcModule, Ctx, Input, Model, Tensor, UInt32 } from '../../lib/index.js';
import { failureOf, ModelClient } from '../helpers/model-client.js';
import { OipSpecClient, rawBytes, rawFloat32, readBytes } from '../helpers/oip-spec-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';
import { field } from '../helpers/protobuf-pieces.js';

/** Small caps, so that a request just under and just over each is small too. */
const LIMITS = { maxInputs: 4, maxOutputs: 2, maxParameters: 3, maxParameterBytes: 32, maxBytesElements: 8 };

@Injectable()
class LimitModels {
  @Model('echo', { returns: String })
  echo(@Input('text', String) text: string): string {
    return text;
  }

  @Model('four', { returns: String })
  four(
    @Input('a', String) a: string,
    @Input('b', String) b: string,
    @Input('c', String) c: string,
    @Input('d', String) d: string,
  ): string {
    return a + b + c + d;
  }

  @Model('words', { returns: UInt32 })
  words(@Input('words', [String]) words: string[]): number {
    return words.length;
  }

  @Model('trio', { returns: { x: String, y: String, z: String } })
  trio(@Input('text', String) text: string) {
    return { x: `x${text}`, y: `y${text}`, z: `z${text}` };
  }

  @Model('params', { returns: String })
  params(@Input('text', String) _text: string, @Ctx() ctx: BlazeContext): string {
    return JSON.stringify(ctx.parameters);
  }

  @Model('images', { returns: UInt32 })
  images(@Input('images', [Tensor.of('float32', ['n'])]) images: Tensor[]): number {
    return images.length;
  }

  @Model('size', { returns: UInt32 })
  size(@Input('x', Tensor.of('float32', ['n'])) x: Tensor): number {
    return x.size;
  }
}

const text = (name: string, value: string) => ({
  name,
  datatype: 'BYTES',
  shape: [1],
  contents: { bytes_contents: [Buffer.from(value)] },
});
const echoRaw = (value = 'hi') => ({
  model_name: 'echo',
  inputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }],
  raw_input_contents: [rawBytes(value)],
});
const stringParameters = (count: number, prefix = 'p') =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, { string_param: 'v' }]));

/** An OIP input `text` of datatype BYTES whose packed shape is `dims` ones. */
const onesShapeInput = (dims: number) =>
  field(5, Buffer.concat([field(1, 'text'), field(2, 'BYTES'), field(3, Buffer.alloc(dims, 1))]));

describe('request limits (limits.*), over real gRPC connections', () => {
  let running: RunningApp;
  let oip: OipSpecClient;
  let blaze: ModelClient;
  let raw: grpc.Client;

  beforeAll(async () => {
    running = await startApp({
      imports: [BlazeRpcModule.forRoot({ ...testServerOptions, limits: LIMITS })],
      providers: [LimitModels],
    });
    oip = new OipSpecClient(running.address);
    blaze = new ModelClient(running.address, running.registry.protoText);
    raw = new grpc.Client(running.address, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    oip?.close();
    blaze?.close();
    raw?.close();
    await running?.app.close();
  });

  /** Request bytes sent as they are; resolves with the status and the response bytes. */
  const send = (path: string, request: Buffer) =>
    new Promise<{ code: grpc.status; details?: string; response?: Buffer }>((resolve) =>
      raw.makeUnaryRequest(
        path,
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        request,
        (error, response) =>
          resolve(error ? { code: error.code, details: error.details } : { code: grpc.status.OK, response }),
      ),
    );
  const refusal = async (call: Promise<unknown>) => {
    const { code, details } = await failureOf(call);
    return { code: grpc.status[code], details };
  };
  const exhausted = (details: string) => ({ code: 'RESOURCE_EXHAUSTED', details });
  const invalid = (details: string) => ({ code: 'INVALID_ARGUMENT', details });

  describe('OIP ModelInfer', () => {
    it(`takes ${LIMITS.maxInputs} inputs, and refuses one more with RESOURCE_EXHAUSTED naming limits.maxInputs, raw or typed`, async () => {
      const names = ['a', 'b', 'c', 'd'];
      const ok = await oip.call('ModelInfer', {
        model_name: 'four',
        inputs: names.map((name) => ({ name, datatype: 'BYTES', shape: [1] })),
        raw_input_contents: names.map((name) => rawBytes(name)),
      });
      expect(readBytes(ok.raw_output_contents[0])).toEqual(['abcd']);
      const message = 'request has more than 4 inputs; at most 4 are accepted (limits.maxInputs)';
      const rawFive = {
        model_name: 'four',
        inputs: [...names, 'e'].map((name) => ({ name, datatype: 'BYTES', shape: [1] })),
        raw_input_contents: [],
      };
      await expect(refusal(oip.call('ModelInfer', rawFive))).resolves.toEqual(exhausted(message));
      const typedFive = { model_name: 'four', inputs: [...names, 'e'].map((name) => text(name, name)) };
      await expect(refusal(oip.call('ModelInfer', typedFive))).resolves.toEqual(exhausted(message));
    });

    it('refuses more raw_input_contents entries than limits.maxInputs', async () => {
      const request = { ...echoRaw(), raw_input_contents: Array.from({ length: 5 }, () => rawBytes('x')) };
      await expect(refusal(oip.call('ModelInfer', request))).resolves.toEqual(
        exhausted('request has more than 4 raw_input_contents entries; at most 4 are accepted (limits.maxInputs)'),
      );
    });

    it(`answers ${LIMITS.maxOutputs} requested outputs, and refuses one more naming limits.maxOutputs; a repeated one is INVALID_ARGUMENT`, async () => {
      const request = (outputs: string[]) => ({
        ...echoRaw('!'),
        model_name: 'trio',
        outputs: outputs.map((name) => ({ name })),
      });
      const ok = await oip.call('ModelInfer', request(['x', 'z']));
      expect(ok.outputs.map((output: { name: string }) => output.name)).toEqual(['x', 'z']);
      expect(ok.raw_output_contents.map((bytes: Buffer) => readBytes(bytes)[0])).toEqual(['x!', 'z!']);
      await expect(refusal(oip.call('ModelInfer', request(['x', 'y', 'z'])))).resolves.toEqual(
        exhausted('request asks for more than 2 outputs; at most 2 are accepted (limits.maxOutputs)'),
      );
      await expect(refusal(oip.call('ModelInfer', request(['x', 'x'])))).resolves.toEqual(
        invalid("Requested output 'x' is asked for twice"),
      );
    });

    it(`hands ${LIMITS.maxParameters} parameters to the model, and refuses one more, counting the request's, the inputs' and the outputs' together`, async () => {
      const ok = await oip.call('ModelInfer', { ...echoRaw(), model_name: 'params', parameters: stringParameters(3) });
      expect(JSON.parse(readBytes(ok.raw_output_contents[0])[0]!)).toEqual({ p0: 'v', p1: 'v', p2: 'v' });
      const message = 'request has more than 3 parameters; at most 3 are accepted (limits.maxParameters)';
      await expect(
        refusal(oip.call('ModelInfer', { ...echoRaw(), model_name: 'params', parameters: stringParameters(4) })),
      ).resolves.toEqual(exhausted(message));
      const spread = {
        model_name: 'params',
        parameters: stringParameters(2),
        inputs: [{ ...text('text', 'hi'), parameters: stringParameters(1, 'i') }],
        outputs: [{ name: 'result', parameters: stringParameters(1, 'o') }],
      };
      await expect(refusal(oip.call('ModelInfer', spread))).resolves.toEqual(exhausted(message));
    });

    it(`takes parameters of ${LIMITS.maxParameterBytes} bytes of keys and string values, and refuses one byte more`, async () => {
      const request = (value: string) => ({
        ...echoRaw(),
        model_name: 'params',
        parameters: { key: { string_param: value } },
      });
      const ok = await oip.call('ModelInfer', request('v'.repeat(29)));
      expect(JSON.parse(readBytes(ok.raw_output_contents[0])[0]!)).toEqual({ key: 'v'.repeat(29) });
      await expect(refusal(oip.call('ModelInfer', request('v'.repeat(30))))).resolves.toEqual(
        exhausted(
          'request parameters hold more than 32 bytes of keys and string values; at most 32 are accepted (limits.maxParameterBytes)',
        ),
      );
    });

    it(`takes ${LIMITS.maxBytesElements} BYTES elements, and refuses one more naming limits.maxBytesElements, raw (counted from the shape) or typed`, async () => {
      const words = (count: number) => Array.from({ length: count }, (_, i) => `w${i}`);
      const rawWords = (count: number) => ({
        model_name: 'words',
        inputs: [{ name: 'words', datatype: 'BYTES', shape: [count] }],
        raw_input_contents: [rawBytes(...words(count))],
      });
      const ok = await oip.call('ModelInfer', rawWords(8));
      expect(ok.raw_output_contents[0].readUInt32LE(0)).toBe(8);
      await expect(refusal(oip.call('ModelInfer', rawWords(9)))).resolves.toEqual(
        exhausted('request has 9 BYTES elements; at most 8 are accepted (limits.maxBytesElements)'),
      );
      const typed = {
        model_name: 'words',
        inputs: [
          {
            name: 'words',
            datatype: 'BYTES',
            shape: [9],
            contents: { bytes_contents: words(9).map((w) => Buffer.from(w)) },
          },
        ],
      };
      await expect(refusal(oip.call('ModelInfer', typed))).resolves.toEqual(
        exhausted('request has more than 8 BYTES elements; at most 8 are accepted (limits.maxBytesElements)'),
      );
    });

    it.each([
      [
        'more raw elements than the shape has',
        'echo',
        'text',
        [1],
        rawBytes('a', 'b', 'c'),
        "Input 'text': raw BYTES holds more than 1 elements, but the shape has 1",
      ],
      [
        'fewer raw elements than the shape has',
        'words',
        'words',
        [3],
        rawBytes('abcdefgh', 'i'),
        "Input 'words': raw BYTES holds 2 elements, but the shape has 3",
      ],
      [
        'a shape the raw bytes cannot hold',
        'words',
        'words',
        [5],
        rawBytes('a'),
        "Input 'words': raw BYTES has 5 bytes, too few for the 5 elements of the shape (each takes at least 4)",
      ],
    ] as const)(
      'refuses %s with INVALID_ARGUMENT, before splitting it',
      async (_, model, name, shape, contents, message) => {
        const request = {
          model_name: model,
          inputs: [{ name, datatype: 'BYTES', shape }],
          raw_input_contents: [contents],
        };
        await expect(refusal(oip.call('ModelInfer', request))).resolves.toEqual(invalid(message));
      },
    );

    it('refuses typed contents that do not fit the shape, or sit in the wrong list, with INVALID_ARGUMENT', async () => {
      const echo = (contents: object) => ({
        model_name: 'echo',
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], contents }],
      });
      await expect(
        refusal(oip.call('ModelInfer', echo({ bytes_contents: ['a', 'b', 'c'].map((s) => Buffer.from(s)) }))),
      ).resolves.toEqual(invalid("Input 'text': the shape has 1 elements, contents.bytes_contents has more than 1"));
      const size = (shape: number[], contents: object) => ({
        model_name: 'size',
        inputs: [{ name: 'x', datatype: 'FP32', shape, contents }],
      });
      await expect(refusal(oip.call('ModelInfer', size([2], { fp32_contents: [1, 2, 3] })))).resolves.toEqual(
        invalid("Input 'x': the shape has 2 elements, contents.fp32_contents has more than 2"),
      );
      await expect(refusal(oip.call('ModelInfer', size([4], { fp32_contents: [1, 2, 3] })))).resolves.toEqual(
        invalid("Input 'x': the shape has 4 elements, contents.fp32_contents has 3"),
      );
      await expect(
        refusal(oip.call('ModelInfer', size([1], { fp32_contents: [1], bytes_contents: [Buffer.from('a')] }))),
      ).resolves.toEqual(invalid("Input 'x': FP32 values go in contents.fp32_contents, not contents.bytes_contents"));
      const ok = await oip.call('ModelInfer', size([3], { fp32_contents: [1, 2, 3] }));
      expect(ok.raw_output_contents[0].readUInt32LE(0)).toBe(3);
    });

    it('takes a shape of 1024 dimensions, and refuses 1025 with INVALID_ARGUMENT before reading them', async () => {
      const request = (dims: number) =>
        Buffer.concat([field(1, 'echo'), onesShapeInput(dims), field(7, rawBytes('hi'))]);
      const ok = await send('/inference.GRPCInferenceService/ModelInfer', request(1024));
      expect(ok.code).toBe(grpc.status.OK);
      await expect(send('/inference.GRPCInferenceService/ModelInfer', request(1025))).resolves.toEqual({
        code: grpc.status.INVALID_ARGUMENT,
        details: "an input's shape has more than 1024 dimensions; at most 1024 are accepted",
      });
    });

    it('answers an over-limit request in a ModelStreamInfer stream with its error_message, and the stream goes on', async () => {
      const tooMany = { ...echoRaw(), parameters: stringParameters(4) };
      const responses = await oip.stream([echoRaw('one'), tooMany, echoRaw('two')]);
      expect(responses.map((r) => r.error_message || readBytes(r.infer_response.raw_output_contents[0])[0])).toEqual([
        'one',
        'RESOURCE_EXHAUSTED: request has more than 3 parameters; at most 3 are accepted (limits.maxParameters)',
        'two',
      ]);
    });
  });

  describe('BlazeRPC', () => {
    it(`takes ${LIMITS.maxBytesElements} list strings, and refuses one more naming limits.maxBytesElements`, async () => {
      const words = (count: number) => ({ words: Array.from({ length: count }, (_, i) => `w${i}`) });
      await expect(blaze.unary('PredictWords', words(8))).resolves.toEqual({ result: 8 });
      await expect(refusal(blaze.unary('PredictWords', words(9)))).resolves.toEqual(
        exhausted(
          "request has more than 8 string and bytes list elements (at 'words'); at most 8 are accepted (limits.maxBytesElements)",
        ),
      );
    });

    it(`takes ${LIMITS.maxInputs} tensors in a list, and refuses one more naming limits.maxInputs`, async () => {
      const images = (count: number) => ({
        images: Array.from({ length: count }, () => ({ shape: [2], dtype: 'float', data: rawFloat32([1, 2]) })),
      });
      await expect(blaze.unary('PredictImages', images(4))).resolves.toEqual({ result: 4 });
      await expect(refusal(blaze.unary('PredictImages', images(5)))).resolves.toEqual(
        exhausted("request has more than 4 tensors in lists (at 'images'); at most 4 are accepted (limits.maxInputs)"),
      );
    });

    it('refuses a tensor shape of 1025 dimensions with INVALID_ARGUMENT naming the input', async () => {
      const tensor = (dims: number) =>
        field(1, Buffer.concat([field(1, Buffer.alloc(dims, 1)), field(2, 'float'), field(3, rawFloat32([1]))]));
      await expect(send('/blazerpc.InferenceService/PredictSize', tensor(1025))).resolves.toEqual({
        code: grpc.status.INVALID_ARGUMENT,
        details: "Input 'x': shape has more than 1024 dimensions; at most 1024 are accepted",
      });
      // 1024 dimensions are read, and the rank is what is wrong.
      const under = await send('/blazerpc.InferenceService/PredictSize', tensor(1024));
      expect(under).toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('(rank 1024)'),
      });
    });

    it('takes a singular field sent 64 times (the last counts), and refuses 65 as malformed', async () => {
      const texts = (count: number) => Buffer.concat(Array.from({ length: count }, (_, i) => field(1, `t${i}`)));
      const ok = await send('/blazerpc.InferenceService/PredictEcho', texts(64));
      expect(ok.response).toEqual(field(1, 't63'));
      const refused = await send('/blazerpc.InferenceService/PredictEcho', texts(65));
      expect(refused).toEqual({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringMatching(/^Malformed EchoRequest message: field 'text' sent more than 64 times/),
      });
    });

    it('skips 1024 unknown fields, and refuses 1025 as malformed', async () => {
      const unknown = (count: number) =>
        Buffer.concat([field(1, 'hi'), Buffer.concat(Array.from({ length: count }, () => Buffer.from([0x78, 0x00])))]);
      const ok = await send('/blazerpc.InferenceService/PredictEcho', unknown(1024));
      expect(ok.response).toEqual(field(1, 'hi'));
      const refused = await send('/blazerpc.InferenceService/PredictEcho', unknown(1025));
      expect(refused).toEqual({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringMatching(/^Malformed EchoRequest message: more than 1024 fields of unknown numbers/),
      });
    });
  });
});
