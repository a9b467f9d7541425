import { status as GrpcStatus } from '@grpc/grpc-js';
import type { MethodDefinition, PackageDefinition } from '@grpc/proto-loader';
import { INFERENCE_SERVICE } from '../core/blaze-rpc.constants.js';
import { modelIdString } from '../core/registry/model-id.js';
import type { DeclaredModel } from '../core/schema/proto-generator.js';
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
  /**
   * Model name: as registered when known (a local registry, or a .proto
   * nestjs-blazerpc generated), otherwise the PascalCase name from the rpc.
   */
  readonly name: string;
  /**
   * Version: as registered when known; otherwise (reflection) only when the
   * server serves several, as the rpc spells it (`1_1` for `1.1`).
   */
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

/** One way to read an rpc as a model version. */
interface Reading {
  readonly name: string;
  /** Unknown for a model served in one version, when only its rpc names are known. */
  readonly version?: string;
  readonly isDefault: boolean;
}

/**
 * The models a server offers, read from its InferenceService definition
 * (from reflection or a local .proto), with names and versions as declared
 * when they are known: from a local registry, or from the comments of a
 * .proto nestjs-blazerpc generated (see `modelsDeclaredIn()`).
 *
 * A call is matched to a model version by its identity, never by an rpc
 * name worked out from what was asked: `foo` version `3` is not `foo-v3`,
 * though both would be `PredictFooV3`. Names match as written or as the
 * rpc spells them (`text-gen`, `TextGen`, `text_gen`), versions as written
 * or as the rpc spells them (`1.1`, `1_1`): the server refuses two models,
 * or two versions of one, that its rpc names would not tell apart.
 *
 * Limits when only the rpc names are known (reflection, or a .proto without
 * the generator's comments): names are the PascalCase ones of the rpcs;
 * the version of a model served in one version is unknown, so that model
 * cannot be asked for by version; versions read back as the rpc spells them
 * (`1_1` for `1.1`, `1-1` or `1_1`); and `PredictFooV3` beside a versioned
 * `foo` reads both as `foo` version `3` and as a model `FooV3`, which the
 * rpc names cannot tell apart (it is listed as the first).
 */
export class ClientModelCatalog {
  private readonly byRpc = new Map<string, ClientModel>();
  /** How each model version can be asked for: one reading when declared; from rpc names alone, sometimes two. */
  private readonly readings = new Map<ClientModel, readonly Reading[]>();

  /** `declared`: the model versions and their rpcs, when known (a registry's descriptors, or `modelsDeclaredIn()` of the .proto). */
  constructor(pkg: PackageDefinition, protoPackage: string, declared?: readonly DeclaredModel[]) {
    const service = pkg[`${protoPackage}.${INFERENCE_SERVICE}`] as
      Record<string, MethodDefinition<object, object>> | undefined;
    if (!service) {
      throw new BlazeRpcClientError(
        GrpcStatus.NOT_FOUND,
        `The server offers no ${protoPackage}.${INFERENCE_SERVICE}; is it a nestjs-blazerpc server?`,
      );
    }
    const fromRpcs = namesFromRpcs(service);
    const naming = declared ? namesFromDeclarations(declared, fromRpcs) : fromRpcs;
    for (const [rpc, method] of Object.entries(service)) {
      const requestType = typeName(method.requestType);
      const readings = naming(rpc, requestType);
      const { name, version, isDefault } = readings[0]!;
      const responseFields = fieldsOf(method.responseType);
      const model: ClientModel = {
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
      };
      this.byRpc.set(rpc, model);
      this.readings.set(model, readings);
    }
  }

  /** Every model version, one entry per rpc that is not a default-version alias. */
  list(): ClientModel[] {
    return [...this.byRpc.values()].filter((model) => model.canonical);
  }

  /**
   * The model version a call goes to: the default one through its
   * `Predict{Name}` rpc, or `version` through its own; NOT_FOUND naming
   * what the server has otherwise.
   */
  resolve(model: string, version?: string): ClientModel {
    const asked = { name: pascalCase(model), version: version === undefined ? undefined : versionSuffix(version) };
    const matches = [...this.byRpc.values()].filter((m) =>
      this.readings.get(m)!.some((reading) => answers(reading, model, asked)),
    );
    // Two rpcs reach a default version (PredictFooV2, PredictFoo): asked without a version, the unversioned one; with one, its own.
    const found = matches.find((m) => m.canonical === (version !== undefined)) ?? matches[0];
    if (!found) {
      const offered = this.list().map((m) =>
        m.version ? modelIdString({ name: m.name, version: m.version }) : m.name,
      );
      const what = version === undefined ? `'${model}'` : `'${model}' version '${version}'`;
      throw new BlazeRpcClientError(
        GrpcStatus.NOT_FOUND,
        `Model ${what} is not served here; the server has: ${offered.join(', ')}`,
      );
    }
    return found;
  }
}

/**
 * Whether a reading is the model version asked for: the name as written or
 * as its rpc spells it (`asked.name`, PascalCase), the version likewise
 * (`asked.version`, as in rpc names), or the default one when none is asked.
 */
function answers(reading: Reading, model: string, asked: { name: string; version?: string }): boolean {
  if (reading.name !== model && pascalCase(reading.name) !== asked.name) return false;
  if (asked.version === undefined) return reading.isDefault;
  return reading.version !== undefined && versionSuffix(reading.version) === asked.version;
}

/** The readings of an rpc, the first one listed. */
type Naming = (rpc: string, requestType: string) => readonly Reading[];

/** Names and versions as declared; an rpc no declaration covers (another app's registry) is read from its name. */
function namesFromDeclarations(models: readonly DeclaredModel[], fromRpcs: Naming): Naming {
  return (rpc, requestType) => {
    const model = models.find((m) => m.rpcMethods.includes(rpc));
    return model
      ? [{ name: model.name, version: model.version, isDefault: model.isDefault }]
      : fromRpcs(rpc, requestType);
  };
}

/**
 * Without declarations, names come from the wire contract: `Predict{Name}`
 * with `{Name}Request`; a versioned model has `Predict{Name}V{v}` rpcs and a
 * `Predict{Name}` alias whose request type names its default version. A
 * `Predict{Name}V{v}` rpc of its own reads both as that version and as a
 * model named `{Name}V{v}` (e.g. `foo-v3` beside a versioned `foo`), which
 * the wire contract does not tell apart.
 */
function namesFromRpcs(service: Record<string, MethodDefinition<object, object>>): Naming {
  const defaults = new Map<string, string>();
  for (const [rpc, method] of Object.entries(service)) {
    const stem = typeName(method.requestType).replace(/Request$/, '');
    if (rpc !== `Predict${stem}`) defaults.set(rpc.replace(/^Predict/, ''), stem);
  }
  // The longest first: `FooV` is a closer base than `Foo` for `FooVV2`.
  const bases = [...defaults.keys()].sort((a, b) => b.length - a.length);
  return (rpc, requestType) => {
    const stem = requestType.replace(/Request$/, '');
    const whole: Reading = { name: stem, isDefault: true };
    const base = bases.find((b) => stem.length > b.length + 1 && stem.startsWith(`${b}V`));
    if (base === undefined) return [whole];
    const asVersion: Reading = {
      name: base,
      version: stem.slice(base.length + 1),
      isDefault: stem === defaults.get(base),
    };
    return rpc === `Predict${stem}` ? [asVersion, whole] : [asVersion];
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
