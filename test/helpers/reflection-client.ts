import * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadFileDescriptors } from '../../lib/core/schema/package-definition.js';

type ReflectionVersion = 'v1' | 'v1alpha';

/**
 * A client that knows nothing of the server's code: it learns services and
 * messages over gRPC server reflection, as grpcurl or Postman do.
 */
export class ReflectionClient {
  private readonly stub: grpc.Client;

  constructor(
    private readonly address: string,
    version: ReflectionVersion = 'v1',
  ) {
    const protoRoot = join(
      dirname(createRequire(__filename).resolve('@grpc/reflection/package.json')),
      'build',
      'proto',
    );
    const definition = loadSync(join(protoRoot, `grpc/reflection/${version}/reflection.proto`), {
      keepCase: true,
      defaults: true,
    });
    const Service = (grpc.loadPackageDefinition(definition) as any).grpc.reflection[version].ServerReflection;
    this.stub = new Service(address, grpc.credentials.createInsecure());
  }

  /** Names of every service the server offers. */
  async listServices(): Promise<string[]> {
    const response = await this.ask({ list_services: '' });
    return response.list_services_response.service.map((s: { name: string }) => s.name);
  }

  /** The encoded FileDescriptorProtos that define `symbol` (and their dependencies). */
  async fileContainingSymbol(symbol: string): Promise<Buffer[]> {
    const response = await this.ask({ file_containing_symbol: symbol });
    if (response.error_response)
      throw Object.assign(new Error(response.error_response.error_message), response.error_response);
    return response.file_descriptor_response.file_descriptor_proto;
  }

  /** A package definition built only from what reflection told us. */
  async describe(symbol: string): Promise<PackageDefinition> {
    return loadFileDescriptors(await this.fileContainingSymbol(symbol));
  }

  /** A callable client for `service`, built from reflection alone. */
  async clientFor(service: string): Promise<grpc.Client> {
    const loaded = grpc.loadPackageDefinition(await this.describe(service));
    const Service = service.split('.').reduce<any>((node, part) => node[part], loaded);
    return new Service(this.address, grpc.credentials.createInsecure());
  }

  close(): void {
    this.stub.close();
  }

  private ask(request: object): Promise<any> {
    return new Promise((resolve, reject) => {
      const call = (this.stub as any).ServerReflectionInfo();
      call.on('data', (response: unknown) => {
        resolve(response);
        call.end();
      });
      call.on('error', reject);
      call.write(request);
    });
  }
}
