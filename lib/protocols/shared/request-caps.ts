import { status as GrpcStatus } from '@grpc/grpc-js';
import { CallStatusError } from '../../core/errors/call-status.error.js';
import type { RequestLimits } from '../../core/options/request-limits.interface.js';

/**
 * @internal The refusal of a request over one of `limits`: RESOURCE_EXHAUSTED,
 * naming what was counted, the bound and the option that sets it, e.g.
 * `request has more than 64 parameters; at most 64 are accepted (limits.maxParameters)`.
 * `what` reads after "request has" / "request asks for": it says how many were
 * counted, or "more than" the bound when counting stopped there.
 */
export function overLimit(what: string, max: number, option: keyof RequestLimits): CallStatusError {
  return new CallStatusError(GrpcStatus.RESOURCE_EXHAUSTED, `${what}; at most ${max} are accepted (limits.${option})`);
}
