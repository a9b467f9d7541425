import { status as GrpcStatus } from '@grpc/grpc-js';
import type { MethodDefinition, PackageDefinition } from '@grpc/proto-loader';
import { INFERENCE_SERVICE } from '../core/blaze-rpc.constants.js';
import type { ModelDescriptor } from '../core/schema/model-descriptor.interface.js';
import { pascalCase, versionSuffix } from '../core/schema/proto-naming.js';
import { BlazeRpcClientError } from './blaze-rpc-client.error.js';
import type { ModelCallKind } from './model-map.types.js';

/** How one request or response field travels. */
export interface ClientField {
  readonly name: string;
  readonly kind: 'tensor' | 'int64' | 'other';
  readonly repeated: boolean;
  /** The protobuf field type, e.g. `TYPE_STRING` (checked before sending, so a wrong type fails here, naming the field). */
  readonly protoType?: string;
}

/** A model version as the client knows it. */
export interface ClientModel {
  /** Model name: as registered when known (local registry), otherwise the PascalCase name from the rpc. */
  readonly name: string;
  /** Version, when the server serves several (or a local registry says). */
  readonly version?: string;
  readonly isDefault: boolean;
  /** rpc name, e.g. `PredictIris`. */
  readonly rpc: string;
  /** Server streaming: the model answers with a stream of replies (`server-stream` or `bidi`). */
  readonly streaming: boolean;
  /** Client streaming: the model takes a stream of request messages (`client-stream` or `bidi`). */
  readonly inputStreaming: boolean;
  /** How the rpc moves messages, which says the method to call it with: predict, stream, upload or duplex. */
  readonly kind: ModelCallKind;
  readonly inputs: readonly ClientField[];
  readonly outputs: readonly ClientField[];
  /** True when the response has named fields rather than a single `result`. */
  readonly namedOutputs: boolean;
  /** False for a default-version alias (`Predict{Name}` of a versioned model). */
  readonly canonical: boolean;
  /** @internal */
  readonly method: MethodDefinition<object, object>;
}

interface DescriptorField {
  name: string;
  label?: string;
  type?: string;
  typeName?: string;
}

/**
 * The models a server offers, read from its InferenceService definition
 * (from reflection or a local .proto), with names and versions from a local
 * registry when one is given.
 */
export class ClientModelCatalog {
  private readonly byRpc = new Map<string, ClientModel>();

  constructor(pkg: PackageDefinition, protoPackage: string, registry?: readonly ModelDescriptor[]) {
    const service = pkg[`${protoPackage}.${INFERENCE_SERVICE}`] as Record<string, MethodDefinition<object, object>> | undefined;
    if (!service) {
      throw new BlazeRpcClientError(GrpcStatus.NOT_FOUND, `The server offers no ${protoPackage}.${INFERENCE_SERVICE}; is it a nestjs-blazerpc server?`);
    }
    const naming = registry ? namesFromRegistry(registry) : namesFromRpcs(service);
    for (const [rpc, method] of Object.entries(service)) {
      const requestType = typeName(method.requestType);
      const { name, version, isDefault } = naming(rpc, requestType);
      const responseFields = fieldsOf(method.responseType);
      this.byRpc.set(rpc, {
        name,
        version,
        isDefault,
        rpc,
        streaming: method.responseStream,
        inputStreaming: method.requestStream,
        kind: callKind(method.requestStream, method.responseStream),
        inputs: fieldsOf(method.requestType),
        outputs: responseFields,
        namedOutputs: !(responseFields.length === 1 && responseFields[0].name === 'result'),
        canonical: rpc === `Predict${requestType.replace(/Request$/, '')}`,
        method,
      });
    }
  }

  /** Every model version, one entry per rpc that is not a default-version alias. */
  list(): ClientModel[] {
    return [...this.byRpc.values()].filter((model) => model.canonical);
  }

  /** The model version a call goes to; NOT_FOUND naming what the server has otherwise. */
  resolve(model: string, version?: string): ClientModel {
    const base = pascalCase(model);
    const rpc = `Predict${base}${version === undefined ? '' : versionSuffix(version)}`;
    const found =
      this.byRpc.get(rpc) ?? [...this.byRpc.values()].find((m) => m.name === model && (version === undefined ? m.isDefault : m.version === version));
    if (!found) {
      const offered = this.list().map((m) => (m.version ? `${m.name}@${m.version}` : m.name));
      const what = version === undefined ? `'${model}'` : `'${model}' version '${version}'`;
      throw new BlazeRpcClientError(GrpcStatus.NOT_FOUND, `Model ${what} is not served here; the server has: ${offered.join(', ')}`);
    }
    return found;
  }
}

type Naming = (rpc: string, requestType: string) => { name: string; version?: string; isDefault: boolean };

function namesFromRegistry(models: readonly ModelDescriptor[]): Naming {
  return (rpc) => {
    const model = models.find((m) => m.rpcMethods.includes(rpc));
    return model ? { name: model.name, version: model.version, isDefault: model.isDefault } : { name: rpc.replace(/^Predict/, ''), isDefault: true };
  };
}

/**
 * Without a registry, names come from the wire contract: `Predict{Name}` with
 * `{Name}Request`; a versioned model has `Predict{Name}V{v}` rpcs and a
 * `Predict{Name}` alias whose request type names its default version.
 */
function namesFromRpcs(service: Record<string, MethodDefinition<object, object>>): Naming {
  const defaults = new Map<string, string>();
  for (const [rpc, method] of Object.entries(service)) {
    const stem = typeName(method.requestType).replace(/Request$/, '');
    if (rpc !== `Predict${stem}`) defaults.set(rpc.replace(/^Predict/, ''), stem);
  }
  return (rpc, requestType) => {
    const stem = requestType.replace(/Request$/, '');
    for (const [base, defaultStem] of defaults) {
      if (stem.startsWith(`${base}V`)) return { name: base, version: stem.slice(base.length + 1), isDefault: stem === defaultStem };
    }
    return { name: stem, isDefault: true };
  };
}

function callKind(requestStream: boolean, responseStream: boolean): ModelCallKind {
  if (requestStream) return responseStream ? 'bidi' : 'client-stream';
  return responseStream ? 'server-stream' : 'unary';
}

function typeName(type: unknown): string {
  return ((type as { type?: { name?: string } })?.type?.name ?? '') as string;
}

function fieldsOf(type: unknown): ClientField[] {
  const fields = ((type as { type?: { field?: DescriptorField[] } })?.type?.field ?? []) as DescriptorField[];
  return fields.map((field) => ({
    name: field.name,
    repeated: field.label === 'LABEL_REPEATED',
    protoType: field.type,
    kind:
      field.type === 'TYPE_MESSAGE' && field.typeName?.endsWith('TensorProto')
        ? 'tensor'
        : field.type === 'TYPE_INT64' || field.type === 'TYPE_UINT64'
          ? 'int64'
          : 'other',
  }));
}
