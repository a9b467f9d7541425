import { Injectable } from '@nestjs/common';
import { INFERENCE_SERVICE } from '../blaze-rpc.constants.js';
import { ConfigurationError } from '../errors/configuration.error.js';
import { ModelNotFoundError } from '../errors/model-not-found.error.js';
import type { ModelDescriptor } from '../schema/model-descriptor.interface.js';
import { nameModels, type NamingInput } from '../schema/model-naming.js';
import type { ModelSchema } from '../schema/model-schema.factory.js';
import { generateProto } from '../schema/proto-generator.js';
import { registrationMessages as messages } from '../schema/registration.messages.js';
import type { ModelBinding } from './model-binding.interface.js';
import { sameModel, type ModelId } from './model-id.js';

/** @internal A model version with the handler that serves it. */
export interface RegisteredModel {
  readonly descriptor: ModelDescriptor;
  readonly binding: ModelBinding;
}

/** @internal A model version before naming: its validated schema, whether it asked to be the default, and its handler. */
export type PendingModel = NamingInput & { readonly binding: ModelBinding };

/** A model version: its name and version (the same type as `ModelId`). */
export type ModelKey = ModelId;

/**
 * Every model the app serves, filled on module init from the `@Model()`
 * methods Nest's DiscoveryService finds. Inject it to list models, their
 * versions and input/output specs, or to read the generated .proto.
 *
 * @example
 * ```ts
 * constructor(private readonly registry: ModelRegistry) {}
 * names() { return this.registry.list().map((m) => `${m.name}@${m.version}`); }
 * ```
 */
@Injectable()
export class ModelRegistry {
  private pending: PendingModel[] = [];
  private registered: RegisteredModel[] = [];
  private proto = '';
  private packageName = 'blazerpc';
  private sealed = false;

  /** @internal Adds a validated model; a second declaration of the same name and version fails. */
  add(schema: ModelSchema, markedDefault: boolean, binding: ModelBinding): void {
    assertNoTwin(this.pending, schema);
    this.pending.push({ schema, markedDefault, binding });
  }

  /** @internal Names rpc methods and messages and generates the .proto; run once all models are added. */
  seal(protoPackage: string): void {
    this.packageName = protoPackage;
    this.sealed = true;
    this.rebuild(this.pending);
  }

  /**
   * @internal Adds and removes model versions while the app runs, then names
   * them and generates the .proto again. Nothing changes when the result
   * would be invalid (a duplicate version, a name collision): it throws.
   * Before `seal()` the change is only recorded.
   */
  update(add: readonly PendingModel[], remove: readonly ModelId[]): void {
    const next = this.pending.filter((p) => !remove.some((id) => sameModel(id, p.schema)));
    for (const model of add) {
      assertNoTwin(next, model.schema);
      next.push(model);
    }
    if (this.sealed) this.rebuild(next);
    else this.pending = next;
  }

  private rebuild(pending: PendingModel[]): void {
    const registered = nameModels(pending).map(({ descriptor, source }) => ({ descriptor, binding: source.binding }));
    this.proto = generateProto(
      this.packageName,
      registered.map((entry) => entry.descriptor),
    );
    this.pending = pending;
    this.registered = registered;
  }

  /** Every registered model version, ordered by name then version. */
  list(): readonly ModelDescriptor[] {
    return this.registered.map((entry) => entry.descriptor);
  }

  /**
   * One model version; without `version`, the default one.
   * @throws ModelNotFoundError when no such model (or version) is registered
   */
  get(name: string, version?: string): ModelDescriptor {
    const found = this.list().find(
      (m) => m.name === name && (version === undefined ? m.isDefault : m.version === version),
    );
    if (!found) throw new ModelNotFoundError(name, version);
    return found;
  }

  /** The versions registered for a model name, in ascending order. */
  versions(name: string): string[] {
    return this.list()
      .filter((m) => m.name === name)
      .map((m) => m.version);
  }

  /** The generated .proto text (what the server and reflection serve). */
  get protoText(): string {
    return this.proto;
  }

  /** Proto package of the generated service. */
  get protoPackage(): string {
    return this.packageName;
  }

  /** Fully qualified service name, e.g. `blazerpc.InferenceService`. */
  get serviceName(): string {
    return `${this.packageName}.${INFERENCE_SERVICE}`;
  }

  /** @internal Models with their handlers, for the server. */
  entries(): readonly RegisteredModel[] {
    return this.registered;
  }
}

function assertNoTwin(pending: readonly PendingModel[], schema: ModelSchema): void {
  const twin = pending.find((p) => sameModel(p.schema, schema));
  if (twin) {
    throw new ConfigurationError(
      messages.duplicateVersion(schema.name, schema.version, twin.schema.handler, schema.handler),
    );
  }
}
