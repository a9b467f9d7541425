import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  Catch,
  Controller,
  Injectable,
  Module,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type INestMicroservice,
  type LoggerService,
  type NestHybridApplicationOptions,
  type NestInterceptor,
  type PipeTransform,
  type PreRequestHook,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE, NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { GrpcMethod, Transport, type AsyncMicroserviceOptions } from '@nestjs/microservices';
import { map, throwError, type Observable } from 'rxjs';
import { BlazeRpcModule, BlazeRpcServer, Input, Model, ModelRegistry } from '../../lib/index.js';
import { ModelClient } from '../helpers/model-client.js';
import { freePort, writeProbeProto } from '../helpers/nest-grpc-probe.js';
import { testServerOptions } from '../helpers/start-app.js';

/*
 * The same enhancers, registered every way Nest allows, on Nest's own gRPC
 * transport and on ours side by side: which of them reach a call must be the
 * same on both. Nest's column is asserted too, so a Nest upgrade that changes
 * its scoping shows up here.
 */

/** Thrown by both handlers for text starting with 'boom'; only the filter turns it into ABORTED. */
class TeapotError extends Error {}

/** Appends `suffix` to our string result or to Nest's `{ result }`. */
function tag(suffix: string) {
  return (result: unknown) =>
    typeof result === 'string' ? `${result}${suffix}` : { result: `${(result as { result: string }).result}${suffix}` };
}

/** Denies text 'deny'. */
@Injectable()
class ScopeGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToRpc().getData<{ text?: string }>().text !== 'deny';
  }
}

/** Appends '+i' to the result. */
@Injectable()
class ScopeInterceptor implements NestInterceptor {
  intercept(_: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map(tag('+i')));
  }
}

/** Appends '+p' to the text (our @Input string, or Nest's payload object). */
@Injectable()
class ScopePipe implements PipeTransform {
  transform(value: unknown): unknown {
    if (typeof value === 'string') return `${value}+p`;
    const text = (value as { text?: unknown } | null)?.text;
    return typeof text === 'string' ? { ...(value as object), text: `${text}+p` } : value;
  }
}

/** TeapotError -> ABORTED, in the idiom of Nest's gRPC docs (a `{ code, message }` error). */
@Catch(TeapotError)
class ScopeFilter implements RpcExceptionFilter<TeapotError> {
  catch(): Observable<never> {
    return throwError(() => ({ code: grpc.status.ABORTED, message: 'teapot' }));
  }
}

@Controller()
class ProbeController {
  @GrpcMethod('Probe', 'Echo')
  echo({ text }: { text: string }): { result: string } {
    if (text.startsWith('boom')) throw new TeapotError();
    return { result: text };
  }
}

@Injectable()
class ScopeModels {
  @Model('echo')
  echo(@Input('text') text: string): string {
    if (text.startsWith('boom')) throw new TeapotError();
    return text;
  }
}

const appProviders = [
  { provide: APP_GUARD, useClass: ScopeGuard },
  { provide: APP_INTERCEPTOR, useClass: ScopeInterceptor },
  { provide: APP_PIPE, useClass: ScopePipe },
  { provide: APP_FILTER, useClass: ScopeFilter },
];

@Module({
  imports: [BlazeRpcModule.forRoot(testServerOptions)],
  controllers: [ProbeController],
  providers: [ScopeModels],
})
class PlainModule {}

@Module({ imports: [PlainModule], providers: appProviders })
class WithAppProvidersModule {}

/** Appends '+h' to the result, around everything else (a microservice-only registration). */
const scopeHook: PreRequestHook = (_, next) => next().pipe(map(tag('+h')));

function useGlobals(target: INestApplication | INestMicroservice): void {
  target.useGlobalGuards(new ScopeGuard());
  target.useGlobalInterceptors(new ScopeInterceptor());
  target.useGlobalPipes(new ScopePipe());
  target.useGlobalFilters(new ScopeFilter());
  if ('registerPreRequestHook' in target) target.registerPreRequestHook(scopeHook);
}

/** Which enhancers reached a call. */
interface Reached {
  guard: boolean;
  interceptor: boolean;
  pipe: boolean;
  filter: boolean;
  preRequestHook: boolean;
}

type Call = (text: string) => Promise<{ result?: string; code?: number }>;

async function probe(call: Call): Promise<Reached> {
  const plain = await call('x');
  const denied = await call('deny');
  const boom = await call('boom');
  return {
    guard: denied.code !== undefined,
    interceptor: plain.result?.includes('+i') ?? false,
    pipe: plain.result?.startsWith('x+p') ?? false,
    filter: boom.code === grpc.status.ABORTED,
    preRequestHook: plain.result?.endsWith('+h') ?? false,
  };
}

function settle(invoke: () => Promise<{ result: string }>): ReturnType<Call> {
  return invoke().then(
    ({ result }) => ({ result }),
    (error: grpc.ServiceError) => ({ code: error.code }),
  );
}

const { protoPath, remove } = writeProbeProto();
afterAll(remove);

const clients: Array<{ close(): void }> = [];
afterEach(() => clients.splice(0).forEach((client) => client.close()));

function nestGrpcOptions(port: number) {
  return { transport: Transport.GRPC as const, options: { package: 'probe', protoPath, url: `127.0.0.1:${port}` } };
}

function nestCaller(port: number): Call {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as any;
  const client = new pkg.probe.Probe(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients.push(client);
  return (text) =>
    settle(
      () =>
        new Promise((resolve, reject) =>
          client.Echo({ text }, (error: unknown, reply: { result: string }) =>
            error ? reject(error) : resolve(reply),
          ),
        ),
    );
}

function ourCaller(server: BlazeRpcServer, registry: ModelRegistry): Call {
  const client = new ModelClient(`127.0.0.1:${server.port}`, registry.protoText);
  clients.push(client);
  return (text) => settle(() => client.unary('PredictEcho', { text }));
}

/** Collects what the app warns, to find our startup warning about unreached enhancers. */
class WarningLog implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

/** `ms.useGlobal*()` also registers a pre-request hook. */
type Registration = 'app.useGlobal*()' | 'APP_* providers' | 'ms.useGlobal*()';

/** A hybrid app with both transports connected alike; returns what reached calls on each. */
async function hybrid(registration: Registration, hybridOptions: NestHybridApplicationOptions) {
  const moduleRef = await Test.createTestingModule({
    imports: [registration === 'APP_* providers' ? WithAppProvidersModule : PlainModule],
  }).compile();
  const log = new WarningLog();
  const app = moduleRef.createNestApplication({ logger: log });
  try {
    if (registration === 'app.useGlobal*()') useGlobals(app);
    const nestPort = await freePort();
    const nest = app.connectMicroservice(nestGrpcOptions(nestPort), hybridOptions);
    const ours = app.connectMicroservice({ strategy: app.get(BlazeRpcServer) }, hybridOptions);
    if (registration === 'ms.useGlobal*()') [nest, ours].forEach(useGlobals);
    await app.startAllMicroservices();
    await app.init();
    return {
      nest: await probe(nestCaller(nestPort)),
      ours: await probe(ourCaller(app.get(BlazeRpcServer), app.get(ModelRegistry))),
      warnings: log.warnings.filter((line) => line.includes('do not apply to model calls')),
    };
  } finally {
    await app.close();
  }
}

/** A standalone microservice per transport, from the same module. */
async function standalone(registration: Exclude<Registration, 'app.useGlobal*()'>) {
  const module = registration === 'APP_* providers' ? WithAppProvidersModule : PlainModule;
  const configure = (ms: INestMicroservice) => registration === 'ms.useGlobal*()' && useGlobals(ms);
  const nestPort = await freePort();
  const nest = await NestFactory.createMicroservice(module, { ...nestGrpcOptions(nestPort), logger: false });
  const ours = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(module, {
    inject: [BlazeRpcServer],
    useFactory: (server: BlazeRpcServer) => ({ strategy: server }),
    logger: false,
  });
  try {
    [nest, ours].forEach(configure);
    await nest.listen();
    await ours.listen();
    return {
      nest: await probe(nestCaller(nestPort)),
      ours: await probe(ourCaller(ours.get(BlazeRpcServer), ours.get(ModelRegistry))),
    };
  } finally {
    await nest.close();
    await ours.close();
  }
}

const NONE: Reached = { guard: false, interceptor: false, pipe: false, filter: false, preRequestHook: false };
const ENHANCERS: Reached = { ...NONE, guard: true, interceptor: true, pipe: true, filter: true };
/** Enhancers and a pre-request hook: only a microservice can register hooks. */
const ALL: Reached = { ...ENHANCERS, preRequestHook: true };

describe('enhancer scope: our transport beside Nest’s own Transport.GRPC', () => {
  it.each<[Registration, NestHybridApplicationOptions, Reached]>([
    ['app.useGlobal*()', {}, NONE],
    ['app.useGlobal*()', { inheritAppConfig: true }, ENHANCERS],
    ['ms.useGlobal*()', { deferInitialization: true }, ALL],
    ['ms.useGlobal*()', {}, NONE],
    ['APP_* providers', {}, NONE],
    ['APP_* providers', { inheritAppConfig: true }, ENHANCERS],
  ])('hybrid app, %s with connectMicroservice options %j', async (registration, options, expected) => {
    const { nest, ours, warnings } = await hybrid(registration, options);
    expect(nest).toEqual(expected);
    expect(ours).toEqual(nest);
    const appEnhancersUnreached = registration !== 'ms.useGlobal*()' && !options.inheritAppConfig;
    if (appEnhancersUnreached) {
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /guards ScopeGuard; interceptors ScopeInterceptor; pipes ScopePipe; filters ScopeFilter/,
      );
      expect(warnings[0]).toContain('inheritAppConfig: true');
    } else {
      expect(warnings).toEqual([]);
    }
  });

  it.each<[Exclude<Registration, 'app.useGlobal*()'>, Reached]>([
    ['ms.useGlobal*()', ALL],
    ['APP_* providers', ENHANCERS],
  ])('standalone createMicroservice, %s', async (registration, expected) => {
    const { nest, ours } = await standalone(registration);
    expect(nest).toEqual(expected);
    expect(ours).toEqual(nest);
  });
});
