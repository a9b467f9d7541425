import {
  status as GrpcStatus,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { quoteClientText } from '../core/errors/client-text.js';
import type { BlazeHealthService, ServingStatus } from '../core/health/blaze-health.service.js';

interface HealthCheckRequest {
  service: string;
}

/** @internal Check and Watch per the gRPC health checking protocol. */
export function createHealthHandlers(
  health: BlazeHealthService,
  openWatches: Set<() => void>,
): UntypedServiceImplementation {
  return {
    Check: (call: ServerUnaryCall<HealthCheckRequest, object>, callback: sendUnaryData<object>) => {
      const status = health.getStatus(call.request.service);
      if (status === undefined) {
        return callback({
          code: GrpcStatus.NOT_FOUND,
          details: `Unknown service '${quoteClientText(call.request.service)}'`,
        });
      }
      callback(null, { status });
    },
    Watch: (call: ServerWritableStream<HealthCheckRequest, { status: ServingStatus | 'SERVICE_UNKNOWN' }>) => {
      const { service } = call.request;
      call.write({ status: health.getStatus(service) ?? 'SERVICE_UNKNOWN' });
      const unsubscribe = health.watch(service, (status) => call.write({ status }));
      const close = () => {
        unsubscribe();
        openWatches.delete(close);
        call.end();
      };
      openWatches.add(close);
      // A client that left before this handler ran gets no 'cancelled' event.
      if (call.cancelled) close();
      else call.once('cancelled', close);
    },
  };
}
