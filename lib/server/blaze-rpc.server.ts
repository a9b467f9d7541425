import { Server as GrpcServer, type ServiceDefinition } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { RESOLVED_OPTIONS } from '../core/blaze-rpc.constants.js';
import { BlazeRpcExplorer } from '../core/discovery/blaze-rpc.explorer.js';
import { BlazeHealthService } from '../core/health/blaze-health.service.js';
import { createHealthHandlers } from './health.handlers.js';
import { HEALTH_PROTO, HEALTH_SERVICE } from '../protocols/shared/health.proto.js';
import type { ResolvedBlazeRpcOptions } from '../core/options/resolved-options.interface.js';
import { ModelRegistry } from '../core/registry/model.registry.js';
import type { ModelBinding } from '../core/registry/model-binding.interface.js';
import type { ModelBatcher } from '../pipeline/batching/model-batcher.js';
import { BlazeMetrics, NoopBlazeMetrics } from '../observability/blaze-metrics.js';
import { createServiceHandlers, type CallHandlerContext } from '../transport/call-handlers.js';
import { loggingObserver, metricsObserver, statisticsObserver, type CallObserver } from '../transport/call-observer.js';
import { InferenceStatistics, StatisticsRecordingMetrics } from '../observability/inference-statistics.js';
import { CallTracker } from '../transport/call-tracker.js';
import { applyFlowControlWindow } from '../transport/flow-control-window.js';
import { RequestBytesBudget } from '../transport/request-bytes-budget.js';
import { ModelInvokerFactory } from '../pipeline/model-invoker.factory.js';
import { loadPackageDefinition, packageDefinitionOf, parseProto } from '../core/schema/package-definition.js';
import { ModelPipeline } from '../pipeline/model-pipeline.js';
import { createBlazeRpcService } from '../protocols/blazerpc/blazerpc.front-end.js';
import { createOipService, oipPackageDefinition } from '../protocols/oip/oip.front-end.js';
import { describeGlobalEnhancers, hasGlobalGuards, type EnhancerScope } from '../pipeline/enhancer-scope.js';
import { installMicroserviceScopeHook } from './microservice-scope.hook.js';
import { assertSupportedNestRelease } from '../core/nest-internals.js';
import { MountedRoutes } from '../transport/mounted-routes.js';
import { bindServer } from '../transport/server-bind.js';
import { versionHealthName } from '../core/health/health-names.js';
import { modelIdString, type ModelId } from '../core/registry/model-id.js';
import { ModelRepositorySet } from '../core/registry/model-repository-set.js';
import type { GuardedRepositoryAction, ModelRepositoryControl } from '../core/registry/model-repository.interface.js';
import { refuseUnguardedControl, UNGUARDED_CONTROL_MESSAGE } from '../protocols/oip/oip-repository.routes.js';
import { RepositoryControlGuard } from '../core/registry/repository-control.guard.js';
import { CallTracer } from '../observability/call-tracer.js';
import { otel } from '../observability/otel-api.js';

/**
 * The gRPC transport: serves the generated `InferenceService`, health and
 * reflection on `@grpc/grpc-js`. Mount it in a hybrid app:
 *
 * @example
 * ```ts
 * app.connectMicroservice({ strategy: app.get(BlazeRpcServer) });
 * await app.startAllMicroservices();
 * ```
 */
@Injectable()
// Implements ScopedStrategy too (adoptEnhancerScope), which is internal and so not named here.
export class BlazeRpcServer extends Server implements CustomTransportStrategy, OnApplicationBootstrap {
  protected override readonly logger = new Logger('BlazeRpc');
  private readonly tracker = new CallTracker();
  private readonly openWatches = new Set<() => void>();
  /** Batch queues by the pipeline that feeds them (flushed on shutdown). */
  private readonly batchers = new Map<ModelPipeline, ModelBatcher>();
  /** By `modelIdString()` of the version they serve. */
  private readonly pipelines = new Map<string, { pipeline: ModelPipeline; binding: ModelBinding }>();
  private blazeRoutes?: MountedRoutes;
  private enhancers?: ApplicationConfig;
  private closing = false;
  private context?: CallHandlerContext;
  /** @internal The app's model repositories (attached by the runtimes that serve them), for OIP's repository rpcs. */
  readonly repositories: ModelRepositorySet = new AttachedRepositories(() => this.checkRepositoryControl());
  /** True when OIP is served and no guard applies to its repository load/unload, which are then refused (decided at start). */
  private controlUnguarded = false;
  private warnedUnguardedControl = false;
  private grpcServer?: GrpcServer;
  private boundPort?: number;
  private enhancerScope?: EnhancerScope;
  /** OpenTelemetry server spans (made only when an SDK records spans). */
  private readonly tracer: CallTracer;
  /** Where to listen instead of the module's address, and no .proto file (set by the testing helper). */
  private testAddress?: { host: string; port: number };
  private readonly scopeHooked: boolean;
  /**
   * Who this server is, compared instead of the object itself: Nest's
   * `instrument.instanceDecorator` (e.g. @nestjs/observe) may hand the app a
   * proxy of it, and a proxy is never `===` its target.
   */
  private readonly identity = Symbol('BlazeRpcServer');

  /** @internal Made by Nest's injector: get it with `app.get(BlazeRpcServer)`. */
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedBlazeRpcOptions,
    private readonly registry: ModelRegistry,
    private readonly invokers: ModelInvokerFactory,
    private readonly health: BlazeHealthService,
    private readonly explorer: BlazeRpcExplorer,
    private readonly metrics: BlazeMetrics,
    private readonly modules: ModulesContainer,
    private readonly statistics: InferenceStatistics,
  ) {
    super();
    assertSupportedNestRelease();
    this.tracer = new CallTracer(options.host, () => this.boundPort);
    this.scopeHooked = installMicroserviceScopeHook(
      (server): server is BlazeRpcServer => server instanceof BlazeRpcServer,
    );
  }

  /**
   * @internal Called when the Nest microservice this server is mounted in
   * registers its handlers: its global enhancers are the ones model calls
   * run with, exactly as for Nest's own transports (see
   * `installMicroserviceScopeHook`).
   */
  adoptEnhancerScope(scope: EnhancerScope): void {
    this.enhancerScope = scope;
  }

  /**
   * Warns when the app starts without this server mounted as a microservice:
   * the models are registered, but nothing serves them and gRPC clients are
   * refused. (Nest records every mounted strategy as the app's RPC targets.)
   */
  onApplicationBootstrap(): void {
    let mounted = false;
    this.modules
      .getRpcTargetRegistry()
      .subscribe((target) => (mounted ||= (target as { identity?: symbol } | null)?.identity === this.identity))
      .unsubscribe();
    if (!mounted) {
      this.logger.warn(
        'BlazeRpcServer is not mounted, so no model is served over gRPC. Before app.listen()/app.init(), add ' +
          'app.connectMicroservice({ strategy: app.get(BlazeRpcServer) }) and await app.startAllMicroservices().',
      );
    }
  }

  /**
   * @internal For tests (`serveForTesting` in `nestjs-blazerpc/testing`):
   * listen on `host`:`port` instead of the module's address, and write no
   * .proto file. Call before the microservice starts.
   */
  listenForTesting(host: string, port: number): void {
    this.testAddress = { host, port };
  }

  /** The port the server is bound to (the real one when `port: 0` was asked for). */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('BlazeRpcServer is not listening yet');
    return this.boundPort;
  }

  /** Called by Nest when the microservice starts. */
  listen(callback: (error?: unknown, info?: unknown) => void): void {
    this.start().then(
      () => callback(undefined, { port: this.boundPort }),
      (error) => callback(error),
    );
  }

  /**
   * Called by Nest on `app.close()`: health turns NOT_SERVING, new calls get
   * UNAVAILABLE, in-flight calls get `gracePeriodMs` to finish, the rest are
   * cancelled with UNAVAILABLE.
   */
  async close(): Promise<void> {
    this.closing = true;
    const server = this.grpcServer;
    if (!server) return;
    this.grpcServer = undefined;
    this.logger.log(
      `Shutting down: ${this.tracker.size} call(s) in flight, up to ${this.options.gracePeriodMs} ms to finish`,
    );
    for (const service of this.health.services()) this.health.setStatus(service, 'NOT_SERVING');
    // Queued requests run now rather than wait for fuller batches; what outlives the grace period is cancelled.
    this.batchers.forEach((batcher) => batcher.flush());
    const cancelled = await this.tracker.drain(this.options.gracePeriodMs);
    if (cancelled > 0)
      this.logger.warn(`Cancelled ${cancelled} call(s) still running after ${this.options.gracePeriodMs} ms`);
    this.openWatches.forEach((close) => close());
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 1000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  /** This transport emits no events. */
  on(): never {
    throw new Error('BlazeRpcServer emits no events; watch health or metrics instead');
  }

  /** The underlying `@grpc/grpc-js` server. */
  unwrap<T>(): T {
    if (!this.grpcServer) throw new Error('BlazeRpcServer is not listening yet');
    return this.grpcServer as T;
  }

  private async start(): Promise<void> {
    await this.explorer.explore();
    const server = new GrpcServer(this.options.channelOptions);
    const budget = new RequestBytesBudget(this.options.limits.maxRequestBytesInFlight);
    if (!applyFlowControlWindow(server, this.options.flowControlWindow, (http2Server) => budget.attach(http2Server))) {
      this.logger.warn(
        'This @grpc/grpc-js release does not let the flow control window be set, nor requests be counted as they arrive; ' +
          'serving with its default window (64 KiB) and without limits.maxRequestBytesInFlight',
      );
    }
    this.enhancers = this.resolveEnhancerScope();
    const context = (this.context = this.createHandlerContext());
    this.blazeRoutes = new MountedRoutes(server, context);
    const { protocols } = this.options;
    if (this.registry.list().length === 0) {
      this.logger.warn(
        'No @Model() methods found: serving health and reflection only. Add @Model() to a method of a provider or ' +
          'controller in a module the app imports (and make sure that module is imported).',
      );
    }
    if (protocols.oip) {
      const { health, statistics, logger, registry, pipelineOf } = this;
      const repository = () => (this.repositories.size > 0 ? this.repositories : undefined);
      const guardRepositoryAction = this.repositoryControl(this.enhancers);
      const oip = createOipService({
        registry,
        pipelineOf,
        health,
        statistics,
        limits: context.limits,
        logger,
        repository,
        guardRepositoryAction,
      });
      server.addService(oip.definition, createServiceHandlers(oip, context));
    }
    if (this.options.health) {
      server.addService(
        loadPackageDefinition(HEALTH_PROTO)[HEALTH_SERVICE] as ServiceDefinition,
        createHealthHandlers(this.health, this.openWatches),
      );
    }
    this.mountModels(server);
    const { host, port } = this.testAddress ?? this.options;
    this.boundPort = await bindServer(server, host, port, this.options.credentials);
    this.grpcServer = server;
    if (!this.testAddress) await this.explorer.writeProtoFile();
    this.markServing();
    this.checkRepositoryControl();
    const scheme = this.options.tls ? 'TLS' : 'plaintext';
    const spoken = [protocols.blazerpc && 'BlazeRPC', protocols.oip && 'Open Inference Protocol']
      .filter(Boolean)
      .join(' and ');
    this.logger.log(
      `Serving ${this.registry.list().length} model(s) over ${spoken} on ${this.options.host}:${this.boundPort} (${scheme})`,
    );
  }

  /**
   * @internal Serves the registry as it is now, while the server runs:
   * pipelines for the model versions added, the BlazeRPC rpcs and
   * reflection remade from the new .proto, health entries added. Returns once
   * that is served, with `retired`: resolves once the calls the replaced and
   * removed versions were running have ended, so their runtimes can be
   * released. Before the server starts there is nothing to remount.
   * @throws Error while the server shuts down
   */
  refresh(): { retired: Promise<void> } {
    if (this.closing) throw new Error('BlazeRpcServer is shutting down; models are no longer added or removed');
    const server = this.grpcServer;
    if (!server) return { retired: Promise.resolve() };
    const retired = this.mountModels(server);
    this.markServing();
    this.forgetUnserved(retired);
    if (!this.testAddress) {
      this.explorer
        .writeProtoFile()
        .catch((error: Error) => this.logger.warn(`Could not write the .proto file again: ${error.message}`));
    }
    return { retired: Promise.all(retired.map((pipeline) => this.retire(pipeline))).then(() => undefined) };
  }

  /** @internal True once shutdown began (no model may be added or removed then). */
  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Makes the pipelines the registry needs, mounts its BlazeRPC rpcs and
   * reflection over its .proto, and returns the pipelines it no longer needs.
   * Parsed once: grpc-js's method definitions and the strict request decoders
   * both come from one root.
   */
  private mountModels(server: GrpcServer): ModelPipeline[] {
    const root = parseProto(this.registry.protoText);
    const inference = packageDefinitionOf(root);
    const retired = this.syncPipelines();
    const served = this.options.protocols.blazerpc && this.registry.list().length > 0;
    const service = served
      ? createBlazeRpcService(this.registry, inference, root, this.pipelineOf, this.context!.limits)
      : { definition: {}, routes: {} };
    this.blazeRoutes!.mount(service);
    if (this.options.reflection) this.mountReflection(server, served ? inference : {});
    return retired;
  }

  /**
   * One pipeline per registered model version, with its batch queue when
   * batched; a version whose handler changed (re-registered) gets a new one.
   * Returns the pipelines no longer served.
   */
  private syncPipelines(): ModelPipeline[] {
    const retired: ModelPipeline[] = [];
    const wanted = new Set<string>();
    for (const entry of this.registry.entries()) {
      const key = modelIdString(entry.descriptor);
      wanted.add(key);
      const current = this.pipelines.get(key);
      if (current?.binding === entry.binding) continue;
      if (current) retired.push(current.pipeline);
      const { invoke, batcher } = this.invokers.create(entry, this.enhancers!, this.tracer);
      const pipeline = new ModelPipeline(entry.descriptor, invoke, this.logger, this.options.limits.maxBufferedResults);
      if (batcher) this.batchers.set(pipeline, batcher);
      this.pipelines.set(key, { pipeline, binding: entry.binding });
    }
    for (const [key, { pipeline }] of this.pipelines) {
      if (wanted.has(key)) continue;
      this.pipelines.delete(key);
      retired.push(pipeline);
    }
    return retired;
  }

  /** Waits for the calls a replaced or removed pipeline was running, then forgets its batch queue. */
  private async retire(pipeline: ModelPipeline): Promise<void> {
    await pipeline.idle();
    this.batchers.delete(pipeline);
  }

  /** Health forgets the versions (and models) no longer served, at once: their last calls may still run, but no new one reaches them. */
  private forgetUnserved(retired: ModelPipeline[]): void {
    for (const { descriptor } of retired) {
      if (this.pipelines.has(modelIdString(descriptor))) continue;
      this.health.forget(versionHealthName(descriptor));
      if (this.registry.versions(descriptor.name).length === 0) this.health.forget(descriptor.name);
    }
  }

  /** Reflection over what is served now; clients that cached old descriptors keep them until they ask again. */
  private mountReflection(server: GrpcServer, inference: PackageDefinition): void {
    const exposed: PackageDefinition = { ...inference };
    if (this.options.protocols.oip) Object.assign(exposed, oipPackageDefinition());
    if (this.options.health) Object.assign(exposed, loadPackageDefinition(HEALTH_PROTO));
    for (const path of REFLECTION_PATHS) server.unregister(path);
    new ReflectionService(exposed).addToServer(server);
  }

  private readonly pipelineOf = (id: ModelId): ModelPipeline => {
    const pipeline = this.pipelines.get(modelIdString(id))?.pipeline;
    if (!pipeline) throw new Error(`No pipeline for model '${id.name}' version '${id.version}'`);
    return pipeline;
  };

  /**
   * The global enhancers model calls run with, and a warning for the app's
   * own global enhancers when they will not reach model calls: a silent
   * auth gap is the worst way to find out about Nest's scoping.
   */
  private resolveEnhancerScope(): ApplicationConfig {
    const appConfig = this.invokers.appConfig ?? new ApplicationConfig();
    const scope = this.enhancerScope;
    if (!scope) {
      // Started outside NestMicroservice (or Nest no longer has the hook's method): the app's configuration is the only one there is.
      this.logger.warn(
        this.scopeHooked
          ? "BlazeRpcServer was started without a Nest microservice; model calls use the app's global enhancers."
          : "This @nestjs/microservices release gives BlazeRpcServer no way to read the microservice's global enhancers; " +
              "model calls use the app's global enhancers. Register global guards on the app (app.useGlobalGuards() or APP_GUARD).",
      );
      return appConfig;
    }
    const unreached = scope.sharesAppConfig ? '' : describeGlobalEnhancers(appConfig);
    if (unreached) {
      this.logger.warn(
        `The app's global ${unreached} do not apply to model calls: Nest applies an app's global enhancers (useGlobal*() and APP_* ` +
          'providers) to a connected microservice only with app.connectMicroservice({ strategy }, { inheritAppConfig: true }). ' +
          'Add that option, or register them on the microservice itself (connectMicroservice(..., { deferInitialization: true }), ' +
          'then ms.useGlobalGuards() etc. before startAllMicroservices()).',
      );
    }
    return scope.config;
  }

  /**
   * OIP's repository load/unload, through the microservice's global guards;
   * refused, every one, when no guard applies to them. Only global guards can
   * (the calls have no class or method of the app's), and those are a
   * snapshot fixed at start, so this is decided once, here, with nothing to
   * re-check per call. Guards that ask for a token are trusted to; the
   * library cannot tell what a guard checks, only that one runs.
   */
  private repositoryControl(enhancers: ApplicationConfig): GuardedRepositoryAction {
    this.controlUnguarded = !hasGlobalGuards(enhancers);
    if (!this.controlUnguarded) return this.invokers.guardRepositoryActions(enhancers);
    return refuseUnguardedControl(() => this.checkRepositoryControl());
  }

  /**
   * Once a repository allows control, says once what stands in its way: no
   * guard (every load/unload is refused), or a `RepositoryControlGuard`
   * without its secret. Runs at start and whenever a repository attaches,
   * since in a hybrid app started before `app.init()` repositories attach
   * after the server started.
   */
  private checkRepositoryControl(): void {
    const enhancers = this.enhancers;
    if (!enhancers || !this.options.protocols.oip || !this.repositories.controllable) return;
    if (!this.controlUnguarded) {
      for (const guard of enhancers.getGlobalGuards())
        if (guard instanceof RepositoryControlGuard) guard.reportUnsetSecret();
      return;
    }
    if (this.warnedUnguardedControl) return;
    this.warnedUnguardedControl = true;
    const appConfig = this.invokers.appConfig;
    const unreached =
      this.enhancerScope && !this.enhancerScope.sharesAppConfig && appConfig && hasGlobalGuards(appConfig);
    this.logger.warn(
      UNGUARDED_CONTROL_MESSAGE +
        (unreached
          ? ". The app's global guards do not reach it: connect the microservice with app.connectMicroservice({ strategy }, { inheritAppConfig: true })."
          : '.'),
    );
  }

  private createHandlerContext(): CallHandlerContext {
    const sink = this.metrics instanceof StatisticsRecordingMetrics ? this.metrics.sink : this.metrics;
    const observers = [
      statisticsObserver(this.statistics),
      ...(sink instanceof NoopBlazeMetrics ? [] : [metricsObserver(sink)]),
      ...(this.options.logCalls ? [loggingObserver(this.logger)] : []),
    ];
    const observe: CallObserver | undefined =
      observers.length === 0
        ? undefined
        : observers.length === 1
          ? observers[0]
          : (outcome) => observers.forEach((notify) => notify(outcome));
    return { tracker: this.tracker, observe, tracer: otel ? this.tracer : undefined, limits: this.options.limits };
  }

  /**
   * The server's entries SERVING; each model's and each version's
   * (`iris@2`) too, unless its runtime marked it NOT_SERVING (still loading).
   */
  private markServing(): void {
    this.health.setStatus('', 'SERVING');
    this.health.setStatus(this.registry.serviceName, 'SERVING');
    for (const model of this.registry.list()) {
      for (const entry of [model.name, versionHealthName(model)])
        this.health.setStatus(entry, this.health.getStatus(entry) ?? 'SERVING');
    }
  }
}

/**
 * The app's model repositories, telling the server when one attaches: a
 * repository that allows control may attach after the server started, and
 * the server warns then if nothing guards that control.
 */
class AttachedRepositories extends ModelRepositorySet {
  constructor(private readonly attached: () => void) {
    super();
  }

  override add(repository: ModelRepositoryControl): void {
    super.add(repository);
    this.attached();
  }
}

/** The reflection services `@grpc/reflection` adds, removed before it is added again over a new .proto. */
const REFLECTION_PATHS = [
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
];
