import { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeContext } from '../../core/context/blaze-context.js';
import { CallStatusError } from '../../core/errors/call-status.error.js';
import { ValidationError } from '../../core/errors/validation.error.js';
import type {
  GuardedRepositoryAction,
  ModelRepositoryControl,
  RepositoryModelState,
} from '../../core/registry/model-repository.interface.js';
import { controlTurnedOff } from '../../core/registry/model-repository-set.js';
import { modelIdString, sameModel } from '../../core/registry/model-id.js';
import { compareVersions } from '../../core/schema/proto-naming.js';
import type { ModelCall, ServedCall } from '../shared/call-route.js';
import type { OipModels } from './oip-models.js';

/**
 * @internal What a client that loads or unloads a model is told, and what the
 * server warns once, when no guard protects repository control. It says how
 * to fix it, as the operator reading either needs to know.
 */
export const UNGUARDED_CONTROL_MESSAGE =
  'Repository control is refused: no guard protects it. Add a global guard (useGlobalGuards or APP_GUARD) that checks ' +
  'isRepositoryControlCall(context), e.g. RepositoryControlGuard.withToken(() => process.env.ADMIN_TOKEN); see README "OIP repository control"';

/**
 * @internal The repository action when no guard applies to repository
 * control: every load and unload refused with PERMISSION_DENIED. Running
 * them unguarded would let anyone who reaches the port unload the models it
 * serves, so control fails closed rather than open. The refusal is expected,
 * so it is answered, not logged; `refused` runs on each (the server warns once).
 */
export function refuseUnguardedControl(refused: () => void): GuardedRepositoryAction {
  return async () => {
    refused();
    throw new CallStatusError(GrpcStatus.PERMISSION_DENIED, UNGUARDED_CONTROL_MESSAGE);
  };
}

/**
 * @internal OIP `RepositoryIndex`: every served version, plus the versions a
 * model repository is loading or failed to load (with the reason), so a
 * broken rollout shows up where operators look.
 */
export function repositoryIndexOf(
  models: OipModels,
  repository: ModelRepositoryControl | undefined,
  readyOnly: boolean,
): RepositoryModelState[] {
  const held = new Map((repository?.index() ?? []).map((entry) => [modelIdString(entry), entry]));
  const served: RepositoryModelState[] = models.all().map((model) => {
    const id = modelIdString(model.descriptor);
    // The repository's own entry for a version it serves (READY) adds its reason; any other entry is listed apart.
    const own = held.get(id)?.state === 'READY' ? held.get(id) : undefined;
    if (own) held.delete(id);
    const reason = own?.reason ?? '';
    return {
      name: model.descriptor.name,
      version: model.descriptor.version,
      state: models.isReady(model) ? 'READY' : 'UNAVAILABLE',
      reason,
    };
  });
  // What the repository holds but does not serve (yet): loading, or failed with the reason.
  const elsewhere = [...held.values()].filter((entry) => entry.state !== 'READY');
  const index = [...served, ...elsewhere].sort(
    (a, b) => a.name.localeCompare(b.name) || compareVersions(a.version, b.version),
  );
  return readyOnly ? index.filter((entry) => entry.state === 'READY') : index;
}

/**
 * @internal OIP `ModelReady` for a version the repository knows but does not
 * serve (loading, or its file failed to load): not ready, rather than
 * NOT_FOUND. `undefined` when the repository does not know it either.
 */
export function repositoryReadiness(
  repository: ModelRepositoryControl | undefined,
  name: string,
  version: string,
): boolean | undefined {
  const known = repository?.index().find((entry) => sameModel(entry, { name, version }));
  return known && known.state !== 'READY' ? false : undefined;
}

/**
 * @internal OIP `RepositoryModelLoad` / `RepositoryModelUnload`: refused
 * unless a model repository allows control, and run through the
 * microservice's global guards (see `isRepositoryControlCall`); `guarded`
 * refuses them all when no guard applies (see `refuseUnguardedControl`).
 * Nothing about the model (whether the repository holds it) is answered
 * before the guards let the call through.
 */
export async function controlRepository(
  action: 'load' | 'unload',
  request: { model_name?: string; repository_name?: string },
  call: ModelCall,
  inflight: ServedCall,
  path: string,
  repository: ModelRepositoryControl | undefined,
  guarded: GuardedRepositoryAction,
): Promise<void> {
  if (!repository) {
    throw new CallStatusError(
      GrpcStatus.UNIMPLEMENTED,
      'This server has no model repository to load or unload models from',
    );
  }
  if (!repository.controllable) throw controlTurnedOff();
  const model = request.model_name ?? '';
  if (model === '')
    throw new ValidationError('model_name is required: the name of a model in the repository', 'model_name');
  const context = new BlazeContext(call.metadata, call, path, model, '', inflight.deadline, inflight);
  await guarded(action, request, context, () =>
    action === 'load' ? repository.load(model) : repository.unload(model),
  );
}
