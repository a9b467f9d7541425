import { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeRpcClientError } from '../client/blaze-rpc-client.error.js';
import { OipClient, OipStreamError, type OipModelMetadata, type OipRepositoryModel } from '../client/oip/index.js';
import { CliError, EXIT, withSpinner, type CliIo } from './cli-io.js';
import { parseMetadata, parseTimeout, parseTls, type Values } from './cli-options.js';
import { oipInputsFromJson, oipOutputsToJson } from './oip-json.js';

/** A model as `models --protocol oip` lists it. */
interface ListedModel {
  name: string;
  versions: string[];
  state: string;
  reason?: string;
  platform?: string;
  inputs?: OipModelMetadata['inputs'];
  outputs?: OipModelMetadata['outputs'];
}

/**
 * `blazerpc models --protocol oip <host:port> [model...]`: the models of any
 * OIP server with their versions, state and tensors. The names come from
 * RepositoryIndex (a Triton extension); servers without it (KServe runtimes)
 * are asked about the models named on the command line, over ModelReady and
 * ModelMetadata.
 */
export async function listOipModels(args: string[], values: Values, io: CliIo): Promise<number> {
  const [address, ...names] = args;
  const client = connect(address, values);
  try {
    const index =
      names.length > 0
        ? undefined
        : await reaching(address, withSpinner(io, `listing models at ${address}`, repositoryIndexOf(client, address)));
    const wanted = index ? [...new Set(index.map((entry) => entry.name))] : names;
    const models: ListedModel[] = [];
    for (const name of wanted) {
      const entries = index?.filter((entry) => entry.name === name) ?? [];
      const metadata = await reaching(address, metadataOf(client, name));
      const state =
        entries.length > 0
          ? stateOf(entries)
          : (await reaching(address, client.modelReady(name)))
            ? 'READY'
            : 'UNAVAILABLE';
      // The index names loaded versions; ModelMetadata the versions a server without per-version entries has.
      const versions = entries.map((entry) => entry.version).filter(Boolean);
      models.push({
        name,
        versions: versions.length > 0 ? versions : (metadata?.versions ?? []),
        state,
        reason: entries.find((entry) => entry.reason)?.reason || undefined,
        platform: metadata?.platform,
        inputs: metadata?.inputs,
        outputs: metadata?.outputs,
      });
    }
    if (values.json) {
      io.stdout.write(`${JSON.stringify(models, null, 2)}\n`);
    } else {
      const tensors = (list: ListedModel['inputs']) =>
        list ? list.map((t) => `${t.name}:${t.datatype}[${t.shape.join(',')}]`).join(', ') : '?';
      for (const m of models) {
        const versions = m.versions.length > 0 ? `@${m.versions.join(',')}` : '';
        io.stdout.write(
          `${m.name}${versions}\t${m.state}${m.reason ? ` (${m.reason})` : ''}\t(${tensors(m.inputs)}) -> ${tensors(m.outputs)}\n`,
        );
      }
    }
    return EXIT.ok;
  } finally {
    client.close();
  }
}

/**
 * `blazerpc call --protocol oip <host:port> <model> '<json>'`: reads the
 * model's metadata first, so plain JSON numbers become the datatype and shape
 * the model declares, then calls ModelInfer (or, with --stream,
 * ModelStreamInfer, one JSON line per response) and prints the outputs.
 */
export async function callOipModel(args: string[], values: Values, io: CliIo): Promise<number> {
  const [address, model, text = '{}'] = args;
  if (!model)
    throw new CliError(
      EXIT.usage,
      'Missing <model>, e.g. blazerpc call --protocol oip localhost:8001 iris \'{"input":[5.1,3.5,1.4,0.2]}\'',
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(EXIT.usage, `The inputs are not valid JSON: ${(error as Error).message}`);
  }
  const client = connect(address, values);
  try {
    const metadata = await reaching(
      address,
      withSpinner(
        io,
        `reading ${model} at ${address}`,
        client.modelMetadata(model, values['model-version']).catch(unlessUnimplemented),
      ),
    );
    const inputs = oipInputsFromJson(json, metadata?.inputs);
    const options = {
      version: values['model-version'],
      metadata: parseMetadata(values.metadata),
      timeoutMs: parseTimeout(values.timeout),
    };
    if (!values.stream) {
      io.stdout.write(`${JSON.stringify(oipOutputsToJson(await client.infer(model, inputs, options)))}\n`);
      return EXIT.ok;
    }
    // A failed response is reported and the stream read on; the exit code then says one failed.
    let failed: OipStreamError | undefined;
    for await (const response of client.stream(model, inputs, options)) {
      if (response instanceof OipStreamError) {
        failed = response;
        io.stderr.write(`${response.codeName}: ${response.details}\n`);
      } else {
        io.stdout.write(`${JSON.stringify(oipOutputsToJson(response))}\n`);
      }
    }
    return failed ? EXIT.grpcBase + failed.code : EXIT.ok;
  } finally {
    client.close();
  }
}

function connect(address: string | undefined, values: Values): OipClient {
  if (!address) throw new CliError(EXIT.usage, 'Missing <host:port>, e.g. localhost:8001');
  return new OipClient(address, { timeoutMs: parseTimeout(values.timeout) ?? 10_000, tls: parseTls(values) });
}

async function repositoryIndexOf(client: OipClient, address: string): Promise<OipRepositoryModel[]> {
  try {
    return await client.repositoryIndex();
  } catch (error) {
    if ((error as BlazeRpcClientError).code !== GrpcStatus.UNIMPLEMENTED) throw error;
    throw new CliError(
      EXIT.usage,
      `${address} cannot list its models (no RepositoryIndex); name them: blazerpc models --protocol oip ${address} <model>...`,
    );
  }
}

/** A model's metadata; none when the server cannot say (not loaded, or no metadata for it). */
async function metadataOf(client: OipClient, name: string): Promise<OipModelMetadata | undefined> {
  try {
    return await client.modelMetadata(name);
  } catch (error) {
    const code = (error as BlazeRpcClientError).code;
    if (code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.DEADLINE_EXCEEDED) throw error;
    return undefined;
  }
}

function unlessUnimplemented(error: unknown): undefined {
  if ((error as BlazeRpcClientError).code === GrpcStatus.UNIMPLEMENTED) return undefined;
  throw error;
}

/** Ready when every listed version is; otherwise the first other state. */
function stateOf(entries: OipRepositoryModel[]): string {
  return entries.find((entry) => entry.state !== 'READY')?.state || 'READY';
}

/** A server that does not answer at all exits 4 (unreachable), as for the BlazeRPC protocol. */
async function reaching<T>(address: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof BlazeRpcClientError && error.code === GrpcStatus.UNAVAILABLE) {
      throw new CliError(EXIT.unreachable, `Could not reach an OIP server at ${address}: ${error.details}`);
    }
    throw error;
  }
}
