import { Injectable } from '@nestjs/common';
import { BlazeRpcExplorer } from '../core/discovery/blaze-rpc.explorer.js';
import { BlazeRpcServer } from './blaze-rpc.server.js';
import type { ModelRepositoryControl } from '../core/registry/model-repository.interface.js';
import { ModelRegistry, type ModelKey } from '../core/registry/model.registry.js';
import { sameModel } from '../core/registry/model-id.js';

/**
 * Adds and removes models while the app serves, for runtimes that load
 * models at runtime (a model repository). One `swap()` is one change of the
 * served set: the new versions are served, the old ones unmounted, in the
 * same tick, so an rpc both sets have (`PredictIris`) never goes away; calls
 * already on an old version finish on it.
 *
 * @example
 * ```ts
 * const { retired } = await live.swap([new IrisV2Endpoint()], [{ name: 'iris', version: '1' }]);
 * retired.then(() => irisV1.dispose());
 * ```
 */
@Injectable()
export class LiveModels {
  /** @internal Made by Nest's injector. */
  constructor(
    private readonly explorer: BlazeRpcExplorer,
    private readonly registry: ModelRegistry,
    private readonly server: BlazeRpcServer,
  ) {}

  /**
   * Serves the `@Model()` methods of each object in `add` and stops serving
   * the versions in `remove`, then regenerates the .proto and reflection.
   * Resolves once the new set is served, with the versions added and
   * `retired`, which resolves once the calls the removed (or replaced)
   * versions were running have ended: release their runtimes then.
   * @throws ConfigurationError when the change is invalid (a version served twice, a name collision), or Error while the server shuts down; nothing changes then
   */
  async swap(
    add: readonly object[],
    remove: readonly ModelKey[] = [],
  ): Promise<{ added: ModelKey[]; retired: Promise<void> }> {
    await this.explorer.explore();
    if (this.server.isClosing) throw new Error('The server is shutting down; models are no longer added or removed');
    const models = add.flatMap((instance) => this.explorer.modelsOfInstance(instance));
    this.registry.update(models, remove);
    const { retired } = this.server.refresh();
    return { added: models.map(({ schema }) => ({ name: schema.name, version: schema.version })), retired };
  }

  /** True once the server began shutting down: no change is taken then. */
  get isClosing(): boolean {
    return this.server.isClosing;
  }

  /** The handler serving a model version now (e.g. `IrisModels.predict`), or `undefined` when none does. */
  handlerOf(name: string, version: string): string | undefined {
    return this.registry.list().find((model) => sameModel(model, { name, version }))?.handler;
  }

  /** @internal Lets OIP's repository rpcs reach a model repository. */
  attachRepository(repository: ModelRepositoryControl): void {
    this.server.repositories.add(repository);
  }
}
