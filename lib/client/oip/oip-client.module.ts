import {
  Inject,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { OipClientOptions } from './oip-client-options.interface.js';
import { OipClient } from './oip-client.js';

/** Options of `OipClientModule.register()`. */
export interface OipClientModuleOptions extends OipClientOptions {
  /** `host:port` of the OIP server (Triton, KServe, MLServer, or a nestjs-blazerpc app serving OIP). */
  address: string;
  /**
   * Injection name, for apps that talk to several servers (`@InjectOipClient(name)`).
   * @default 'default'
   */
  name?: string;
}

/** Options of `OipClientModule.registerAsync()`. */
export interface OipClientModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  name?: string;
  inject?: FactoryProvider['inject'];
  useFactory: (...args: any[]) => Omit<OipClientModuleOptions, 'name'> | Promise<Omit<OipClientModuleOptions, 'name'>>;
}

/** Injection token of the OIP client registered under `name`. */
export function getOipClientToken(name = 'default'): string {
  return `blazerpc:oip-client:${name}`;
}

/**
 * Injects the `OipClient` registered with `OipClientModule.register()`.
 *
 * @example
 * ```ts
 * constructor(@InjectOipClient() private readonly triton: OipClient) {}
 * ```
 */
export const InjectOipClient = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getOipClientToken(name));

/** Closes every client this module made when the app shuts down. */
class OipClientCloser implements OnApplicationShutdown {
  constructor(private readonly clients: OipClient[]) {}

  onApplicationShutdown(): void {
    this.clients.forEach((client) => client.close());
  }
}

/**
 * For Nest apps that call an Open Inference Protocol server: an injectable
 * `OipClient`, closed on shutdown. The client connects lazily, so the app
 * starts even while the server is still coming up; call
 * `waitUntilReady()` where readiness matters.
 *
 * @example
 * ```ts
 * @Module({ imports: [OipClientModule.register({ address: 'triton:8001', timeoutMs: 2000 })] })
 * export class GatewayModule {}
 * ```
 */
@Module({})
export class OipClientModule {
  static register(options: OipClientModuleOptions): DynamicModule {
    const { name, ...clientOptions } = options;
    return OipClientModule.registerAsync({ name, useFactory: () => clientOptions });
  }

  static registerAsync(options: OipClientModuleAsyncOptions): DynamicModule {
    const token = getOipClientToken(options.name);
    const made: OipClient[] = [];
    const client: Provider = {
      provide: token,
      inject: options.inject ?? [],
      useFactory: async (...deps: unknown[]) => {
        const { address, ...clientOptions } = await options.useFactory(...deps);
        const created = new OipClient(address, clientOptions);
        made.push(created);
        return created;
      },
    };
    const closer: Provider = { provide: `${token}:closer`, useFactory: () => new OipClientCloser(made) };
    return { module: OipClientModule, imports: options.imports ?? [], providers: [client, closer], exports: [token] };
  }
}
