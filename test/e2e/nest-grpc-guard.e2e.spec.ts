import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  BadRequestException,
  Controller,
  ForbiddenException,
  Injectable,
  Module,
  UnauthorizedException,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { GrpcMethod, Payload, RpcException, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { mergeMap, of, throwError, type Observable } from 'rxjs';
import { BlazeRpcModule, BlazeRpcServer, Input, Int32, Model, ModelRegistry } from '../../lib/index.js';
import { ModelClient } from '../helpers/model-client.js';
import { callUnary, freePort, writeProbeProto, type CallOutcome } from '../helpers/nest-grpc-probe.js';
import { testServerOptions } from '../helpers/start-app.js';

/*
 * Guards, interceptors and pipes written for Nest's own gRPC transport,
 * registered once for a hybrid app that serves a Nest `Transport.GRPC`
 * controller (the probe's `Echo`) and a model (`PredictEcho`) side by side,
 * both called by a plain @grpc/grpc-js client: they must see the same call and
 * answer with the same status, except where the contract deliberately differs.
 */

/** A hybrid app serving `module` on Nest's gRPC transport and ours, with a caller for each. */
interface SideBySide {
  /** Calls the probe's `Echo` on Nest's `Transport.GRPC`. */
  nest(request: object, metadata?: grpc.Metadata): Promise<CallOutcome>;
  /** Calls `PredictEcho` on our transport. */
  ours(request: object, metadata?: grpc.Metadata): Promise<CallOutcome>;
  close(): Promise<void>;
}

async function startSideBySide(module: Type, protoPath: string): Promise<SideBySide> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const nestPort = await freePort();
  app.connectMicroservice(
    { transport: Transport.GRPC, options: { package: 'probe', protoPath, url: `127.0.0.1:${nestPort}` } },
    { inheritAppConfig: true },
  );
  app.connectMicroservice({ strategy: app.get(BlazeRpcServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.init();
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as any;
  const nestClient: grpc.Client = new pkg.probe.Probe(`127.0.0.1:${nestPort}`, grpc.credentials.createInsecure());
  const ourClient = new ModelClient(`127.0.0.1:${app.get(BlazeRpcServer).port}`, app.get(ModelRegistry).protoText);
  return {
    nest: (request, metadata) => callUnary(nestClient, 'Echo', request, metadata),
    ours: (request, metadata) => callUnary(ourClient.raw, 'PredictEcho', request, metadata),
    close: async () => {
      nestClient.close();
      ourClient.close();
      await app.close();
    },
  };
}

/** Runs the enclosing `describe` against one side-by-side app (beforeAll/afterAll); read `suite.served` in tests. */
function serveSideBySide(module: Type): { served: SideBySide } {
  const suite = {} as { served: SideBySide };
  const { protoPath, remove } = writeProbeProto();
  beforeAll(async () => {
    suite.served = await startSideBySide(module, protoPath);
  }, 30_000);
  afterAll(async () => {
    await suite.served?.close();
    remove();
  });
  return suite;
}

function metadataOf(values: Record<string, string | Buffer | (string | Buffer)[]>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(values)) for (const one of [value].flat()) metadata.add(key, one);
  return metadata;
}

/* ----------------------------------------------------------------------------------------------------------- */
/* A guard as Nest's gRPC docs teach it                                                                         */
/* ----------------------------------------------------------------------------------------------------------- */

/** Lets a call through with `x-api-key: secret`; with `x-api-key: throw`, refuses it the way Nest's docs show for gRPC. */
@Injectable()
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const metadata = context.switchToRpc().getContext<grpc.Metadata>();
    const [key] = metadata.get('x-api-key');
    if (key === 'throw') throw new RpcException({ code: grpc.status.UNAUTHENTICATED, message: 'bad api key' });
    return key === 'secret' && Object.keys(metadata.getMap()).includes('x-api-key');
  }
}

@Controller()
class ProbeController {
  @GrpcMethod('Probe', 'Echo')
  echo({ text }: { text: string }): { result: string } {
    return { result: text };
  }
}

@Injectable()
class EchoModels {
  @Model('echo', { returns: String })
  echo(@Input('text', String) text: string): string {
    return text;
  }
}

@Module({
  imports: [BlazeRpcModule.forRoot(testServerOptions)],
  controllers: [ProbeController],
  providers: [EchoModels, { provide: APP_GUARD, useClass: ApiKeyGuard }],
})
class HybridModule {}

describe('a guard written as Nest’s gRPC docs teach protects Transport.GRPC controllers and models alike', () => {
  const suite = serveSideBySide(HybridModule);
  const nest = (key?: string) =>
    suite.served.nest({ text: 'hi' }, metadataOf(key === undefined ? {} : { 'x-api-key': key }));
  const ours = (key?: string) =>
    suite.served.ours({ text: 'hi' }, metadataOf(key === undefined ? {} : { 'x-api-key': key }));

  it('lets a call with the key through on both', async () => {
    expect(await nest('secret')).toEqual({ result: 'hi' });
    expect(await ours('secret')).toEqual({ result: 'hi' });
  });

  it('refuses a call without the key on both (Nest: UNKNOWN, a model call: PERMISSION_DENIED)', async () => {
    // Nest's transport answers a guard's `false` with UNKNOWN 'Forbidden resource'; ours with PERMISSION_DENIED.
    expect(await nest()).toEqual({ code: grpc.status.UNKNOWN, details: 'Forbidden resource' });
    expect(await ours()).toEqual({ code: grpc.status.PERMISSION_DENIED, details: expect.any(String) });
    expect(await ours('wrong')).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  });

  it('an RpcException({ code, message }) from the guard gives the same status and message on both', async () => {
    const expected = { code: grpc.status.UNAUTHENTICATED, details: 'bad api key' };
    expect(await nest('throw')).toEqual(expected);
    expect(await ours('throw')).toEqual(expected);
  });
});

/* ----------------------------------------------------------------------------------------------------------- */
/* What a guard sees, and what a guard, an interceptor or a pipe throws                                         */
/* ----------------------------------------------------------------------------------------------------------- */

interface EchoRequest {
  text: string;
  count: number;
  tags: string[];
}

/** Where a request asks to be refused: its `text` is `<where>:<refusal>`, e.g. `pipe:rpc`. */
type Where = 'guard' | 'interceptor' | 'after-handler' | 'pipe';

/** What the enhancer at `where` throws for each refusal a request can ask for. */
const REFUSALS = {
  rpc: (where: Where) =>
    new RpcException({ code: grpc.status.FAILED_PRECONDITION, message: `refused by the ${where}` }),
  'rpc-string': (where: Where) => new RpcException(`plain refusal from the ${where}`),
  forbidden: (where: Where) => new ForbiddenException(`forbidden by the ${where}`),
  unauthorized: (where: Where) => new UnauthorizedException(`unauthorized by the ${where}`),
  'bad-request': (where: Where) => new BadRequestException(`bad request in the ${where}`),
};
type Refusal = keyof typeof REFUSALS;

/** The exception `text` asks the enhancer at `where` to throw, if any. */
function refusalAskedOf(where: Where, text: unknown): Error | undefined {
  if (typeof text !== 'string') return undefined;
  const [at, refusal] = text.split(':');
  return at === where ? REFUSALS[refusal as Refusal](where) : undefined;
}

/** What the guard read of a call through `switchToRpc()`. */
interface Seen {
  data: unknown;
  twice: grpc.MetadataValue[];
  binary: grpc.MetadataValue[];
  map: Record<string, grpc.MetadataValue>;
}

/** What `RecordingGuard` saw, one entry per call, latest last. */
const seenByGuard: Seen[] = [];

/** Records the request and metadata through `switchToRpc()`, as Nest's docs read them, then refuses if asked to. */
@Injectable()
class RecordingGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const rpc = context.switchToRpc();
    const data = rpc.getData<EchoRequest>();
    const metadata = rpc.getContext<grpc.Metadata>();
    seenByGuard.push({
      data,
      twice: metadata.get('x-twice'),
      binary: metadata.get('x-blob-bin'),
      map: metadata.getMap(),
    });
    const refusal = refusalAskedOf('guard', data.text);
    if (refusal) throw refusal;
    return true;
  }
}

/** Refuses before the handler (thrown from `intercept`) or after it (an error in the returned stream), if asked to. */
@Injectable()
class RefusingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { text } = context.switchToRpc().getData<EchoRequest>();
    const before = refusalAskedOf('interceptor', text);
    if (before) throw before;
    const after = refusalAskedOf('after-handler', text);
    return next.handle().pipe(mergeMap((result) => (after ? throwError(() => after) : of(result))));
  }
}

/** A parameter pipe on the text: refuses if asked to. */
@Injectable()
class RefusingPipe implements PipeTransform<string, string> {
  transform(text: string): string {
    const refusal = refusalAskedOf('pipe', text);
    if (refusal) throw refusal;
    return text;
  }
}

@Controller()
class EnhancedProbeController {
  @GrpcMethod('Probe', 'Echo')
  echo(@Payload('text', RefusingPipe) text: string): { result: string } {
    return { result: text };
  }
}

/** The model twin of `EnhancedProbeController`; `count` and `tags` are there for the guard to see in `getData()`. */
@Injectable()
class EnhancedEchoModels {
  @Model('echo', { returns: String })
  echo(
    @Input('text', String, RefusingPipe) text: string,
    @Input('count', Int32) _count: number,
    @Input('tags', [String]) _tags: string[],
  ): string {
    return text;
  }
}

@Module({
  imports: [BlazeRpcModule.forRoot(testServerOptions)],
  controllers: [EnhancedProbeController],
  providers: [
    EnhancedEchoModels,
    { provide: APP_GUARD, useClass: RecordingGuard },
    { provide: APP_INTERCEPTOR, useClass: RefusingInterceptor },
  ],
})
class EnhancedHybridModule {}

describe('guards, interceptors and pipes see and refuse a model call as they do a Transport.GRPC call', () => {
  const suite = serveSideBySide(EnhancedHybridModule);

  /** Makes the same call on both transports; what the guard saw of each, and how each ended. */
  async function sideBySide(request: Partial<EchoRequest>, metadata: () => grpc.Metadata = () => new grpc.Metadata()) {
    seenByGuard.length = 0;
    const nest = await suite.served.nest(request, metadata());
    const nestSaw = seenByGuard.pop();
    const ours = await suite.served.ours(request, metadata());
    const oursSaw = seenByGuard.pop();
    return { nest, ours, nestSaw, oursSaw };
  }

  it('switchToRpc().getData() is the request message on both', async () => {
    const request = { text: 'look', count: 3, tags: ['a', 'b'] };
    const { nest, ours, nestSaw, oursSaw } = await sideBySide(request);
    expect([nest, ours]).toEqual([{ result: 'look' }, { result: 'look' }]);
    expect(nestSaw?.data).toEqual(request);
    expect(oursSaw?.data).toEqual(request);
  });

  it('switchToRpc().getData() of fields left unset: Nest omits them, a model call has their proto3 defaults', async () => {
    // Nest's transport decodes with @grpc/proto-loader's default `defaults: false`: an unset field is absent.
    // A model call's request has every field, as its handler's @Input parameters receive them.
    const { nestSaw, oursSaw } = await sideBySide({ text: 'look' });
    expect(nestSaw?.data).toEqual({ text: 'look' });
    expect(oursSaw?.data).toEqual({ text: 'look', count: 0, tags: [] });
  });

  it('switchToRpc().getContext().get(key) gives every value of a key, and a -bin key’s bytes, on both', async () => {
    const blobs = [Buffer.from([0, 1, 0xfe, 0xff]), Buffer.from('second')];
    const metadata = () => metadataOf({ 'x-twice': ['one', 'two'], 'x-blob-bin': blobs });
    const { nest, ours, nestSaw, oursSaw } = await sideBySide({ text: 'look' }, metadata);
    expect([nest, ours]).toEqual([{ result: 'look' }, { result: 'look' }]);
    // The grpc-js client sends a text key's values as one header, joined with ', ' (both servers read one
    // value); a -bin key's values stay apart.
    expect(nestSaw).toMatchObject({ twice: ['one, two'], binary: blobs });
    expect(oursSaw).toMatchObject({ twice: ['one, two'], binary: blobs });
  });

  it('switchToRpc().getContext().getMap() gives the same map on both', async () => {
    const blobs = [Buffer.from([0, 1, 0xfe, 0xff]), Buffer.from('second')];
    const metadata = () => metadataOf({ 'x-twice': ['one', 'two'], 'x-blob-bin': blobs, 'x-api-key': 'secret' });
    const { nestSaw, oursSaw } = await sideBySide({ text: 'look' }, metadata);
    expect(nestSaw?.map).toEqual({
      'x-twice': 'one, two',
      'x-blob-bin': blobs[0],
      'x-api-key': 'secret',
      'user-agent': expect.any(String),
    });
    expect(oursSaw?.map).toEqual(nestSaw?.map);
  });

  it.each<Where>(['guard', 'interceptor', 'after-handler', 'pipe'])(
    'an RpcException({ code, message }) from the %s gives the same status and message on both',
    async (where) => {
      const { nest, ours } = await sideBySide({ text: `${where}:rpc` });
      const expected = { code: grpc.status.FAILED_PRECONDITION, details: `refused by the ${where}` };
      expect(nest).toEqual(expected);
      expect(ours).toEqual(expected);
    },
  );

  it.each<Where>(['guard', 'interceptor', 'after-handler', 'pipe'])(
    "an RpcException('plain string') from the %s gives UNKNOWN with the string on both",
    async (where) => {
      const { nest, ours } = await sideBySide({ text: `${where}:rpc-string` });
      const expected = { code: grpc.status.UNKNOWN, details: `plain refusal from the ${where}` };
      expect(nest).toEqual(expected);
      expect(ours).toEqual(expected);
    },
  );

  /*
   * HttpExceptions are where the two transports differ, by the contract's choice (../shared/DESIGN.md, "Status
   * codes"): a model call answers a Nest HttpException with the gRPC status of its HTTP status (403
   * PERMISSION_DENIED, 401 UNAUTHENTICATED, 400 INVALID_ARGUMENT, ...) and its message, while Nest's own gRPC
   * transport answers any exception that is not an RpcException with UNKNOWN 'Internal server error'.
   * RpcException({ code, message }) is the portable way to pick a status on both (see above).
   */
  it.each<[string, Where, Refusal, grpc.status, string]>([
    ['ForbiddenException', 'guard', 'forbidden', grpc.status.PERMISSION_DENIED, 'forbidden by the guard'],
    ['UnauthorizedException', 'guard', 'unauthorized', grpc.status.UNAUTHENTICATED, 'unauthorized by the guard'],
    ['BadRequestException', 'guard', 'bad-request', grpc.status.INVALID_ARGUMENT, 'bad request in the guard'],
    ['BadRequestException', 'pipe', 'bad-request', grpc.status.INVALID_ARGUMENT, 'bad request in the pipe'],
  ])(
    'a %s from the %s: Nest answers UNKNOWN, a model call its mapped status',
    async (_name, where, refusal, code, details) => {
      const { nest, ours } = await sideBySide({ text: `${where}:${refusal}` });
      expect(nest).toEqual({ code: grpc.status.UNKNOWN, details: 'Internal server error' });
      expect(ours).toEqual({ code, details });
    },
  );
});
