import type { ClientField, ClientModel } from '../client/client-model-catalog.js';
import { OipClient } from '../client/oip/oip-client.js';
import type { ClientTlsOptions } from '../client/blaze-client-options.interface.js';
import { pascalCase, versionSuffix } from '../core/schema/proto-naming.js';

/** One model as `blazerpc models` shows it. */
export interface ListedModel {
  /** The declared name (`text-gen`) when the server says it, else the name in the rpc (`TextGen`). */
  readonly name: string;
  readonly version?: string;
  readonly rpc: string;
  readonly kind: ClientModel['kind'];
  readonly streaming: boolean;
  /** `(text: string) -> string` */
  readonly signature: string;
}

const SCALAR_TYPE: Record<string, string> = {
  TYPE_STRING: 'string',
  TYPE_BOOL: 'boolean',
  TYPE_DOUBLE: 'number',
  TYPE_FLOAT: 'number',
  TYPE_INT32: 'number',
  TYPE_UINT32: 'number',
  TYPE_INT64: 'bigint',
  TYPE_UINT64: 'bigint',
  TYPE_BYTES: 'bytes',
};

/**
 * @internal The models a BlazeRPC client learned, with their declared names
 * and versions. Reflection only carries rpc names (`PredictTextGen`), so the
 * declared ones (`text-gen`, version `1`) come from the same server's Open
 * Inference Protocol `RepositoryIndex` when it speaks OIP (nestjs-blazerpc
 * servers do by default); otherwise the rpc's names stand.
 */
export async function listModels(
  models: readonly ClientModel[],
  address: string,
  tls: ClientTlsOptions | undefined,
  timeoutMs: number,
): Promise<ListedModel[]> {
  const declared = await declaredNames(address, tls, timeoutMs);
  return models.map((model) => {
    // By the rpc the server named after each declared model version, so `foo-v3` is never taken for
    // version 3 of `foo`; by the PascalCase name where the index and the rpcs disagree.
    const exact = declared.byRpc.get(model.rpc);
    const entries = declared.byPascalName.get(model.name) ?? [];
    const name = exact?.name ?? entries[0]?.name ?? model.name;
    const version = exact?.version ?? model.version ?? (entries.length === 1 ? entries[0]!.version : undefined);
    return {
      name,
      version,
      rpc: model.rpc,
      kind: model.kind,
      streaming: model.streaming,
      signature: signatureOf(model),
    };
  });
}

/** `(a: string, b: Tensor[]) -> { score: number, label: string }` */
export function signatureOf(model: ClientModel): string {
  const inputs = model.inputs.map((field) => `${field.name}: ${typeOf(field)}`).join(', ');
  const result = model.namedOutputs
    ? `{ ${model.outputs.map((field) => `${field.name}: ${typeOf(field)}`).join(', ')} }`
    : typeOf(model.outputs[0]!);
  return `(${inputs}) -> ${result}`;
}

function typeOf(field: ClientField): string {
  const element = field.kind === 'tensor' ? 'Tensor' : (SCALAR_TYPE[field.protoType ?? ''] ?? 'value');
  return field.repeated ? `${element}[]` : element;
}

interface DeclaredModels {
  /** Each ready version by the rpc the server names after it (`PredictFooV2`, `PredictIris`). */
  readonly byRpc: Map<string, { name: string; version: string }>;
  /** Every listed version by the PascalCase name reflection gives. */
  readonly byPascalName: Map<string, Array<{ name: string; version: string }>>;
}

/** Declared names and versions from OIP's `RepositoryIndex`; empty when the server does not speak OIP. */
async function declaredNames(
  address: string,
  tls: ClientTlsOptions | undefined,
  timeoutMs: number,
): Promise<DeclaredModels> {
  const declared: DeclaredModels = { byRpc: new Map(), byPascalName: new Map() };
  const oip = new OipClient(address, { tls, timeoutMs: Math.min(timeoutMs, 2000) });
  try {
    const index = await oip.repositoryIndex();
    for (const { name, version } of index) {
      const key = pascalCase(name);
      declared.byPascalName.set(key, [...(declared.byPascalName.get(key) ?? []), { name, version }]);
    }
    // The rpcs a ready model's versions are served under, named as the server names them.
    const ready = index.filter((model) => model.state === 'READY');
    for (const name of new Set(ready.map((model) => model.name))) {
      const versions = ready.filter((model) => model.name === name).map((model) => model.version);
      for (const version of versions) {
        const rpc = `Predict${pascalCase(name)}${versions.length === 1 ? '' : versionSuffix(version)}`;
        declared.byRpc.set(rpc, { name, version });
      }
    }
  } catch {
    // Not an OIP server (or OIP turned off): the rpc's names will do.
  } finally {
    oip.close();
  }
  return declared;
}
