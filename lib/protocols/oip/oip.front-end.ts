import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
import { toCallStatus } from '../../core/errors/grpc-status.mapper.js';
import type { BlazeHealthService } from '../../core/health/blaze-health.service.js';
import type { InferenceStatistics } from '../../observability/inference-statistics.js';
import { PACKAGE_NAME, packageVersion } from '../../core/package-version.js';
import type { RequestLimits } from '../../core/options/request-limits.interface.js';
import type { ModelPipeline } from '../../pipeline/model-pipeline.js';
import type { ModelRegistry } from '../../core/registry/model.registry.js';
import type { ModelId } from '../../core/registry/model-id.js';
import { packageDefinitionOf, parseProto } from '../../core/schema/package-definition.js';
import type { ProtocolService, ServiceRoute, UnaryRoute } from '../shared/call-route.js';
import { createRequestDecoder } from '../shared/request-decoder.js';
import { oipRequestCaps } from './oip-infer-request.reader.js';
import { OipInferRoute } from './oip-infer.route.js';
import { modelConfigOf, modelMetadataOf, modelStatisticsOf } from './oip-model-info.js';
import { OipModels } from './oip-models.js';
import { controlRepository, repositoryIndexOf, repositoryReadiness } from './oip-repository.routes.js';
import type {
  GuardedRepositoryAction,
  ModelRepositoryControl,
} from '../../core/registry/model-repository.interface.js';
import { OIP_PROTO, OIP_SERVICE } from '../shared/oip.proto.js';

/** Triton extensions this server implements, as `ServerMetadata` lists them. */
export const OIP_EXTENSIONS = ['model_configuration', 'statistics', 'parameters'] as const;

type RawMethod = MethodDefinition<Buffer, Buffer>;
const passThrough = (bytes: Buffer) => bytes;

/** What the OIP front end needs from the server. */
export interface OipFrontEndDependencies {
  readonly registry: ModelRegistry;
  readonly pipelineOf: (id: ModelId) => ModelPipeline;
  readonly health: BlazeHealthService;
  readonly statistics: InferenceStatistics;
  /** The module's `limits`, resolved. */
  readonly limits: Readonly<Required<RequestLimits>>;
  readonly logger: Logger;
  /** The model repository, when a runtime serves one (read per call: it may attach after start). */
  readonly repository: () => ModelRepositoryControl | undefined;
  /** Runs a repository load/unload through the microservice's global enhancers. */
  readonly guardRepositoryAction: GuardedRepositoryAction;
}

/** The parsed OIP service, shared by every server in the process. */
let parsed: { root: ReturnType<typeof parseProto>; service: ServiceDefinition } | undefined;

/** The OIP package definition, e.g. for server reflection. */
export function oipPackageDefinition() {
  return packageDefinitionOf(oipRoot().root);
}

function oipRoot() {
  if (!parsed) {
    const root = parseProto(OIP_PROTO);
    parsed = { root, service: packageDefinitionOf(root)[OIP_SERVICE] as ServiceDefinition };
  }
  return parsed;
}

/**
 * @internal The Open Inference Protocol (KServe v2) front end:
 * `inference.GRPCInferenceService` with the Triton extensions tools rely on.
 * Every request is decoded strictly (as BlazeRPC requests are), and calls
 * run through the transport's call tracking, so drain, deadlines, metrics
 * and call logs apply as to BlazeRPC calls.
 */
export function createOipService(deps: OipFrontEndDependencies): ProtocolService {
  const { root, service } = oipRoot();
  const definition: Record<string, RawMethod> = {};
  for (const [name, method] of Object.entries(service)) {
    definition[name] = { ...method, requestDeserialize: passThrough, responseSerialize: passThrough } as RawMethod;
  }
  const models = new OipModels(deps.registry, deps.pipelineOf, deps.health);
  const method = (name: string) => service[name] as MethodDefinition<object, object>;
  // Every OIP request is held to `limits` while its bytes are walked, before anything is decoded.
  const caps = oipRequestCaps(deps.limits);
  const decoder = (type: string) => createRequestDecoder(root, `inference.${type}`, caps);
  const { limits, logger, statistics } = deps;
  const simple = (name: string, answer: (request: Record<string, string>) => object): UnaryRoute => {
    const decode = decoder(`${name}Request`);
    const { responseSerialize } = method(name);
    return {
      method: name,
      protocol: 'oip',
      answer: (bytes) => responseSerialize(answer(decode(bytes) as Record<string, string>)),
      failure: (error) => {
        const status = toCallStatus(error);
        if (status.unexpected)
          logger.error(`inference.${name} failed: ${(error as Error)?.message}`, (error as Error)?.stack);
        return { code: status.code, details: status.details };
      },
    };
  };
  const control = (name: 'RepositoryModelLoad' | 'RepositoryModelUnload', action: 'load' | 'unload'): UnaryRoute => {
    const decode = decoder(`${name}Request`);
    const { responseSerialize, path } = method(name);
    return {
      ...simple(name, () => ({})),
      answer: async (bytes, call, inflight) => {
        await controlRepository(
          action,
          decode(bytes) as object,
          call,
          inflight,
          path,
          deps.repository(),
          deps.guardRepositoryAction,
        );
        return responseSerialize({});
      },
    };
  };
  const infer = (name: 'ModelInfer' | 'ModelStreamInfer') =>
    new OipInferRoute(
      name,
      method(name).path,
      models,
      decoder('ModelInferRequest'),
      method('ModelInfer'),
      method('ModelStreamInfer'),
      logger,
      limits,
    );

  const routes: UnaryRoute[] = [
    simple('ServerLive', () => ({ live: true })),
    simple('ServerReady', () => ({ ready: models.isServerReady() })),
    simple('ServerMetadata', () => ({
      name: PACKAGE_NAME,
      version: packageVersion(),
      extensions: [...OIP_EXTENSIONS],
    })),
    simple('ModelReady', ({ name, version }) => ({
      ready: repositoryReadiness(deps.repository(), name!, version!) ?? models.isReady(models.find(name!, version!)),
    })),
    simple('ModelMetadata', ({ name, version }) =>
      modelMetadataOf(models.find(name!, version!), models.versions(name!)),
    ),
    simple('ModelConfig', ({ name, version }) => ({ config: modelConfigOf(models.find(name!, version!)) })),
    simple('ModelStatistics', ({ name, version }) => ({
      model_stats: modelStatisticsOf(models, statistics, name!, version!),
    })),
    simple('RepositoryIndex', (request) => ({
      models: repositoryIndexOf(models, deps.repository(), (request as unknown as { ready: boolean }).ready),
    })),
    control('RepositoryModelLoad', 'load'),
    control('RepositoryModelUnload', 'unload'),
    infer('ModelInfer'),
  ];
  const served: Record<string, ServiceRoute> = {};
  for (const route of routes) served[route.method] = { kind: 'unary', route };
  served.ModelStreamInfer = { kind: 'exchange', route: infer('ModelStreamInfer') };
  return { definition, routes: served };
}
