import { status as GrpcStatus, type Client, type ClientDuplexStream, type Metadata } from '@grpc/grpc-js';
import { loadGrpcClientConstructor } from './grpc-stub.js';
import { INFERENCE_SERVICE } from '../core/blaze-rpc.constants.js';
import { loadFileDescriptors } from '../core/schema/package-definition.js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { BlazeRpcClientError } from './blaze-rpc-client.error.js';

/** The parts of grpc.reflection (v1 and v1alpha share field numbers) a client needs. */
const reflectionProto = (version: 'v1' | 'v1alpha') => `syntax = "proto3";
package grpc.reflection.${version};
service ServerReflection {
  rpc ServerReflectionInfo(stream ServerReflectionRequest) returns (stream ServerReflectionResponse);
}
message ServerReflectionRequest {
  string host = 1;
  oneof message_request { string file_by_filename = 3; string file_containing_symbol = 4; string list_services = 7; }
}
message ServerReflectionResponse {
  string valid_host = 1;
  oneof message_response {
    FileDescriptorResponse file_descriptor_response = 4;
    ListServiceResponse list_services_response = 6;
    ErrorResponse error_response = 7;
  }
}
message FileDescriptorResponse { repeated bytes file_descriptor_proto = 1; }
message ListServiceResponse { repeated ServiceResponse service = 1; }
message ServiceResponse { string name = 1; }
message ErrorResponse { int32 error_code = 1; string error_message = 2; }
`;

/** What reflection told us: the inference service's package definition and its proto package. */
export interface DiscoveredSchema {
  readonly pkg: PackageDefinition;
  readonly protoPackage: string;
}

/**
 * Learns the server's models over gRPC server reflection (v1, falling back to
 * v1alpha), as grpcurl does: list the services, fetch the file that defines
 * the inference service.
 */
export async function discoverViaReflection(
  channel: Client,
  metadata: () => Metadata,
  deadline: () => Date | undefined,
): Promise<DiscoveredSchema> {
  try {
    return await discover(channel, 'v1', metadata, deadline);
  } catch (error) {
    if ((error as BlazeRpcClientError).code !== GrpcStatus.UNIMPLEMENTED) throw error;
    return discover(channel, 'v1alpha', metadata, deadline);
  }
}

async function discover(
  channel: Client,
  version: 'v1' | 'v1alpha',
  metadata: () => Metadata,
  deadline: () => Date | undefined,
): Promise<DiscoveredSchema> {
  const Stub = loadGrpcClientConstructor(reflectionProto(version), `grpc.reflection.${version}.ServerReflection`);
  const stub = new Stub('unused', null as never, { channelOverride: channel.getChannel() });
  const ask = (request: object) => askOnce(stub, request, metadata(), deadline());
  const listed = (await ask({ list_services: '' })) as { list_services_response?: { service: { name: string }[] } };
  const service = listed.list_services_response?.service
    .map((s) => s.name)
    .find((name) => name.endsWith(`.${INFERENCE_SERVICE}`));
  if (!service) {
    throw new BlazeRpcClientError(
      GrpcStatus.NOT_FOUND,
      `The server lists no *.${INFERENCE_SERVICE} over reflection; is it a nestjs-blazerpc server?`,
    );
  }
  const found = (await ask({ file_containing_symbol: service })) as {
    file_descriptor_response?: { file_descriptor_proto: Uint8Array[] };
    error_response?: { error_code: number; error_message: string };
  };
  if (!found.file_descriptor_response) {
    throw new BlazeRpcClientError(
      found.error_response?.error_code ?? GrpcStatus.UNKNOWN,
      found.error_response?.error_message ?? 'reflection returned no file',
    );
  }
  return {
    pkg: loadFileDescriptors(found.file_descriptor_response.file_descriptor_proto),
    protoPackage: service.slice(0, -INFERENCE_SERVICE.length - 1),
  };
}

function askOnce(stub: Client, request: object, metadata: Metadata, deadline: Date | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const call = (
      stub as unknown as { ServerReflectionInfo: (m: Metadata, o: object) => ClientDuplexStream<object, unknown> }
    ).ServerReflectionInfo(metadata, deadline ? { deadline } : {});
    call.once('data', (response) => {
      resolve(response);
      call.end();
    });
    call.once('error', (error) => reject(BlazeRpcClientError.from(error)));
    call.write(request);
  });
}
