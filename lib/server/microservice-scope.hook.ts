import type { ApplicationConfig, NestContainer } from '@nestjs/core';
import { NestMicroservice } from '@nestjs/microservices';
import { snapshotEnhancers, type EnhancerScope } from '../pipeline/enhancer-scope.js';

/** @internal A transport strategy that wants its microservice's enhancer scope. */
export interface ScopedStrategy {
  adoptEnhancerScope(scope: EnhancerScope): void;
}

/** What this hook reads of a NestMicroservice (fields the class declares private). */
interface MicroserviceInternals {
  readonly applicationConfig?: ApplicationConfig;
  readonly container?: NestContainer;
  readonly serverInstance?: unknown;
}

// Module-local: each loaded copy of this package wraps once, for its own servers.
const HOOKED = Symbol('blazerpc.microserviceScopeHook');

/**
 * @internal Hands each BlazeRpcServer the enhancer configuration of the Nest
 * microservice it is mounted in.
 *
 * Nest gives a custom strategy no handle on that configuration: its own
 * transports only ever see handlers whose enhancer chains the microservice
 * already built with it, in `registerListeners()`. Model calls need their own
 * chains (they map errors to gRPC statuses and keep refusals quiet, which
 * Nest's RPC exception handler does not), so this wraps
 * `NestMicroservice.prototype.registerListeners`, the moment and the
 * configuration Nest uses for its own handlers, to pass a snapshot of it to
 * the strategy. Any other strategy passes through untouched. Installed once
 * per loaded copy of this package, idempotently.
 *
 * @returns false when this Nest release has no such method to wrap.
 */
export function installMicroserviceScopeHook(isScopedStrategy: (server: unknown) => server is ScopedStrategy): boolean {
  const prototype = NestMicroservice.prototype as unknown as Record<PropertyKey, unknown> & {
    registerListeners?: () => void;
  };
  const registerListeners = prototype.registerListeners;
  if (typeof registerListeners !== 'function') return false;
  if (prototype[HOOKED]) return true;
  prototype.registerListeners = function (this: MicroserviceInternals) {
    const { serverInstance: server, applicationConfig: config, container } = this;
    if (config && isScopedStrategy(server)) {
      server.adoptEnhancerScope({
        config: snapshotEnhancers(config),
        sharesAppConfig: config === container?.applicationConfig,
      });
    }
    return registerListeners.call(this);
  };
  prototype[HOOKED] = true;
  return true;
}
