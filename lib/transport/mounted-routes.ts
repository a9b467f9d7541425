import {
  status as GrpcStatus,
  type MethodDefinition,
  type Server as GrpcServer,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import type { ProtocolService } from '../protocols/shared/call-route.js';
import { createServiceHandlers, type CallHandlerContext } from './call-handlers.js';

type MethodKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

interface Mounted {
  readonly kind: MethodKind;
  readonly handler: UntypedHandleCall;
}

/** Answer to a call whose rpc went away between its headers and its first message. */
const GONE = {
  code: GrpcStatus.UNIMPLEMENTED,
  details: 'This rpc was removed while the call started (its model version was unloaded)',
};

/**
 * @internal The rpcs of one protocol service on a running grpc-js server,
 * remounted as models come and go. Each path gets one stable grpc-js handler
 * that looks up the path's current implementation when the call is handed
 * over: grpc-js picks a handler when a call's headers arrive, and a swap
 * must also steer the calls whose request was still on its way.
 */
export class MountedRoutes {
  private current = new Map<string, Mounted>();

  constructor(
    private readonly server: GrpcServer,
    private readonly context: CallHandlerContext,
  ) {}

  /**
   * Serves exactly `service`'s methods from now on: new paths are
   * registered, existing ones switch to their new handler, and paths it no
   * longer has are unregistered (clients then get UNIMPLEMENTED). Synchronous,
   * so no call sees half a change.
   */
  mount(service: ProtocolService): void {
    const handlers = createServiceHandlers(service, this.context);
    const next = new Map<string, Mounted>();
    for (const [name, method] of Object.entries(service.definition) as [string, MethodDefinition<Buffer, Buffer>][]) {
      const kind = kindOf(method);
      next.set(method.path, { kind, handler: handlers[name] as UntypedHandleCall });
      const previous = this.current.get(method.path);
      if (previous?.kind === kind) continue;
      if (previous) this.server.unregister(method.path);
      this.server.register(
        method.path,
        this.dispatcher(method.path, kind),
        method.responseSerialize,
        method.requestDeserialize,
        kind,
      );
    }
    for (const path of this.current.keys()) {
      if (!next.has(path)) this.server.unregister(path);
    }
    this.current = next;
  }

  private dispatcher(path: string, kind: MethodKind): UntypedHandleCall {
    const find = () => this.current.get(path)?.handler as ((...args: unknown[]) => void) | undefined;
    if (kind === 'unary' || kind === 'clientStream') {
      return ((call: unknown, callback: (error: typeof GONE) => void) => {
        const handler = find();
        if (handler) handler(call, callback);
        else callback(GONE);
      }) as UntypedHandleCall;
    }
    return ((call: { emit(event: 'error', error: typeof GONE): void }) => {
      const handler = find();
      if (handler) handler(call);
      else call.emit('error', GONE);
    }) as UntypedHandleCall;
  }
}

function kindOf(method: MethodDefinition<Buffer, Buffer>): MethodKind {
  if (method.requestStream) return method.responseStream ? 'bidi' : 'clientStream';
  return method.responseStream ? 'serverStream' : 'unary';
}
