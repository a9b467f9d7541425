import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const HEALTH_PROTO = `syntax = "proto3"; package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse { enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; } ServingStatus status = 1; }
service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse); }`;

/** A standard grpc.health.v1 client, as load balancers and Kubernetes probes use. */
export class HealthClient {
  private readonly stub: any;

  constructor(address: string, channelOptions: grpc.ChannelOptions = {}) {
    const definition = fromJSON(protobuf.parse(HEALTH_PROTO, { keepCase: true }).root.toJSON(), {
      enums: String,
      defaults: true,
    });
    const Health = (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health;
    this.stub = new Health(address, grpc.credentials.createInsecure(), channelOptions);
  }

  check(service: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.stub.Check({ service }, (error: grpc.ServiceError | null, response: { status: string }) =>
        error ? reject(error) : resolve(response.status),
      );
    });
  }

  watch(service: string): grpc.ClientReadableStream<{ status: string }> {
    return this.stub.Watch({ service });
  }

  close(): void {
    this.stub.close();
  }
}
