import { ModelNotFoundError } from '../../core/errors/model-not-found.error.js';
import { quoteClientText } from '../../core/errors/client-text.js';
import type { BlazeHealthService } from '../../core/health/blaze-health.service.js';
import { versionHealthName } from '../../core/health/health-names.js';
import type { ModelPipeline } from '../../pipeline/model-pipeline.js';
import type { ModelRegistry } from '../../core/registry/model.registry.js';
import type { ModelId } from '../../core/registry/model-id.js';
import type { ModelDescriptor } from '../../core/schema/model-descriptor.interface.js';
import { oipSignatureOf, type OipSignature } from './oip-signature.js';

/** A model version as OIP serves it. */
export interface OipServedModel {
  readonly descriptor: ModelDescriptor;
  readonly signature: OipSignature;
  readonly pipeline: ModelPipeline;
}

/**
 * @internal The models OIP requests name, with their OIP signatures worked
 * out once, and their readiness as `grpc.health.v1` reports it: a model is
 * ready while the server and the model are SERVING, so neither loading nor
 * draining is ever reported ready.
 */
export class OipModels {
  /** Per registered version (descriptors are remade when models come and go at runtime). */
  private readonly served = new WeakMap<ModelDescriptor, OipServedModel>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly pipelineOf: (id: ModelId) => ModelPipeline,
    private readonly health: BlazeHealthService,
  ) {}

  /** Every served model version, by name then version. */
  all(): OipServedModel[] {
    return this.registry.list().map((descriptor) => this.servedAs(descriptor));
  }

  /**
   * A model by name, and version (`''` for the default one).
   * @throws ModelNotFoundError (NOT_FOUND) when there is no such model or version
   */
  find(name: string, version: string): OipServedModel {
    let descriptor: ModelDescriptor;
    try {
      descriptor = this.registry.get(name, version === '' ? undefined : version);
    } catch {
      // The registry's own error would quote the client's name unbounded.
      throw new ModelNotFoundError(quoteClientText(name), version === '' ? undefined : quoteClientText(version));
    }
    return this.servedAs(descriptor);
  }

  /** The versions of a model name. */
  versions(name: string): string[] {
    return this.registry.versions(name);
  }

  /** Whether the server takes calls. */
  isServerReady(): boolean {
    return this.health.getStatus('') === 'SERVING';
  }

  /** Whether a model version takes calls: the server does, and the model and the version are SERVING. */
  isReady(model: OipServedModel): boolean {
    const { descriptor } = model;
    return (
      this.isServerReady() &&
      this.health.getStatus(descriptor.name) === 'SERVING' &&
      this.health.getStatus(versionHealthName(descriptor)) !== 'NOT_SERVING'
    );
  }

  private servedAs(descriptor: ModelDescriptor): OipServedModel {
    let served = this.served.get(descriptor);
    if (!served) {
      served = { descriptor, signature: oipSignatureOf(descriptor), pipeline: this.pipelineOf(descriptor) };
      this.served.set(descriptor, served);
    }
    return served;
  }
}
