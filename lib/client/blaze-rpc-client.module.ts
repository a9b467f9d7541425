import {
  Inject,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { BlazeClientOptions } from './blaze-client-options.interface.js';
import { BlazeClient } from './blaze-client.js';

/** Options of `BlazeRpcClientModule.register()`. */
export interface BlazeRpcClientModuleOptions extends BlazeClientOptions {
  /** `host:port` of the model server. */
  url: string;
  /**
   * Injection name, for apps that talk to several servers (`@InjectBlazeClient(name)`).
   * @default 'default'
   */
  name?: string;
}

/** Options of `BlazeRpcClientModule.registerAsync()`. */
export interface BlazeRpcClientModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  name?: string;
  inject?: FactoryProvider['inject'];
  useFactory: (
    ...args: any[]
  ) => Omit<BlazeRpcClientModuleOptions, 'name'> | Promise<Omit<BlazeRpcClientModuleOptions, 'name'>>;
}

/** Injection token of the client registered under `name`. */
export function getBlazeClientToken(name = 'default'): string {
  return `blazerpc:client:${name}`;
}

/**
 * Injects the `BlazeClient` registered with `BlazeRpcClientModule.register()`.
 *
 * @example
 * ```ts
 * constructor(@InjectBlazeClient() private readonly models: BlazeClient) {}
 * ```
 */
export const InjectBlazeClient = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getBlazeClientToken(name));

/** Closes every client this module made when the app shuts down. */
class BlazeClientCloser implements OnApplicationShutdown {
  constructor(private readonly clients: BlazeClient[]) {}

  onApplicationShutdown(): void {
    this.clients.forEach((client) => client.close());
  }
}

/**
 * For Nest apps that call a remote model server: an injectable, connected
 * `BlazeClient` (models discovered over reflection at startup), closed on shutdown.
 *
 * @example
 * ```ts
 * @Module({ imports: [BlazeRpcClientModule.register({ url: 'models:50051', timeoutMs: 2000 })] })
 * export class GatewayModule {}
 * ```
 */
@Module({})
export class BlazeRpcClientModule {
  static register(options: BlazeRpcClientModuleOptions): DynamicModule {
    const { name, url, ...clientOptions } = options;
    return BlazeRpcClientModule.registerAsync({ name, useFactory: () => ({ url, ...clientOptions }) });
  }

  static registerAsync(options: BlazeRpcClientModuleAsyncOptions): DynamicModule {
    const token = getBlazeClientToken(options.name);
    const made: BlazeClient[] = [];
    const client: Provider = {
      provide: token,
      inject: options.inject ?? [],
      useFactory: async (...deps: unknown[]) => {
        const { url, ...clientOptions } = await options.useFactory(...deps);
        const connected = await BlazeClient.connect(url, clientOptions);
        made.push(connected);
        return connected;
      },
    };
    const closer: Provider = { provide: `${token}:closer`, useFactory: () => new BlazeClientCloser(made) };
    return {
      module: BlazeRpcClientModule,
      imports: options.imports ?? [],
      providers: [client, closer],
      exports: [token],
    };
  }
}
