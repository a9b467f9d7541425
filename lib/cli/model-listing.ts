import type { ClientField, ClientModel } from '../client/client-model-catalog.js';
import { OipClient } from '../client/oip/oip-client.js';
import type { ClientTlsOptions } from '../client/blaze-client-options.interface.js';
import { pascalCase } from '../core/schema/proto-naming.js';

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
    const entries = declared.get(model.name) ?? [];
    const name = entries[0]?.name ?? model.name;
    const version = model.version ?? (entries.length === 1 ? entries[0]!.version : undefined);
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

/** Declared names and versions by the PascalCase name reflection gives; empty when the server does not speak OIP. */
async function declaredNames(
  address: string,
  tls: ClientTlsOptions | undefined,
  timeoutMs: number,
): Promise<Map<string, Array<{ name: string; version: string }>>> {
  const byRpcName = new Map<string, Array<{ name: string; version: string }>>();
  const oip = new OipClient(address, { tls, timeoutMs: Math.min(timeoutMs, 2000) });
  try {
    for (const { name, version } of await oip.repositoryIndex()) {
      const key = pascalCase(name);
      byRpcName.set(key, [...(byRpcName.get(key) ?? []), { name, version }]);
    }
  } catch {
    // Not an OIP server (or OIP turned off): the rpc's names will do.
  } finally {
    oip.close();
  }
  return byRpcName;
}
