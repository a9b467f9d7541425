import { ModelNotFoundError } from '../../errors/model-not-found.error.js';
import { quoteClientText } from '../../errors/client-text.js';
import type { BlazeHealthService } from '../../health/blaze-health.service.js';
import type { ModelPipeline } from '../../pipeline/model-pipeline.js';
import type { ModelRegistry } from '../../registry/model.registry.js';
import type { ModelDescriptor } from '../../schema/model-descriptor.interface.js';
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
  private readonly served = new Map<string, OipServedModel>();

  constructor(
    private readonly registry: ModelRegistry,
    pipelineOf: (name: string, version: string) => ModelPipeline,
    private readonly health: BlazeHealthService,
  ) {
    for (const descriptor of registry.list()) {
      const { name, version } = descriptor;
      this.served.set(key(name, version), { descriptor, signature: oipSignatureOf(descriptor), pipeline: pipelineOf(name, version) });
    }
  }

  /** Every served model version, by name then version. */
  all(): OipServedModel[] {
    return [...this.served.values()];
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
    return this.served.get(key(descriptor.name, descriptor.version))!;
  }

  /** The versions of a model name. */
  versions(name: string): string[] {
    return this.registry.versions(name);
  }

  /** Whether the server takes calls. */
  isServerReady(): boolean {
    return this.health.getStatus('') === 'SERVING';
  }

  /** Whether a model takes calls: the server does, and the model is SERVING. */
  isReady(model: OipServedModel): boolean {
    return this.isServerReady() && this.health.getStatus(model.descriptor.name) === 'SERVING';
  }
}

function key(name: string, version: string): string {
  return `${name}\u0000${version}`;
}
