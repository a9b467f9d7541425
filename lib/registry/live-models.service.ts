import { Injectable } from '@nestjs/common';
import { BlazeRpcExplorer } from '../discovery/blaze-rpc.explorer.js';
import { BlazeRpcServer } from '../transport/blaze-rpc.server.js';
import type { ModelRepositoryControl } from './model-repository.interface.js';
import { ModelRegistry, type ModelKey } from './model.registry.js';

/**
 * Adds and removes models while the app serves, for runtimes that load
 * models at runtime (a model repository). One `swap()` is one change of the
 * served set: the new versions are served, the old ones unmounted, in the
 * same tick, so an rpc both sets have (`PredictIris`) never goes away; calls
 * already on an old version finish on it.
 *
 * @example
 * ```ts
 * const keys = await live.swap([new IrisV2Endpoint()], [{ name: 'iris', version: '1' }]);
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
   * Resolves, with the versions added, once the calls the removed versions
   * were serving have ended: their runtimes can then be released.
   * @throws ConfigurationError when the change is invalid (a version served twice, a name collision); nothing changes then
   */
  async swap(add: readonly object[], remove: readonly ModelKey[] = []): Promise<ModelKey[]> {
    await this.explorer.explore();
    const models = add.flatMap((instance) => this.explorer.modelsOfInstance(instance));
    this.registry.update(models, remove);
    await this.server.refresh();
    return models.map(({ schema }) => ({ name: schema.name, version: schema.version }));
  }

  /** @internal Lets OIP's repository rpcs reach a model repository. */
  attachRepository(repository: ModelRepositoryControl): void {
    this.server.repository = repository;
  }
}
