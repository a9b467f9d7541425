import type { RequestLimits } from '../../core/options/request-limits.interface.js';
import { ValidationError } from '../../core/errors/validation.error.js';
import { TENSOR_PROTO_MESSAGE } from '../../core/schema/proto-generator.js';
import { MAX_REQUEST_DIMS } from '../../core/tensor/tensor-spec.check.js';
import { overLimit } from '../shared/request-caps.js';
import type { FieldCap } from '../shared/wire-format.validator.js';

const isTensorProto = (typeName: string) =>
  typeName === TENSOR_PROTO_MESSAGE || typeName.endsWith(`.${TENSOR_PROTO_MESSAGE}`);

/**
 * @internal The caps `limits` put on a BlazeRPC request, as the strict
 * decoder counts them while it walks the request's bytes, before anything
 * is decoded: elements of string and bytes lists in all
 * (`maxBytesElements`), tensors in lists of tensors in all (`maxInputs`:
 * the tensors one request carries), and dimensions per tensor shape
 * (`MAX_REQUEST_DIMS`). A model's singular fields are bounded by its
 * declaration already.
 */
export function blazeRpcRequestCaps(
  limits: Pick<Readonly<Required<RequestLimits>>, 'maxInputs' | 'maxBytesElements'>,
): FieldCap[] {
  const { maxInputs, maxBytesElements } = limits;
  return [
    {
      counts: (field) => field.repeated && !field.map && (field.type === 'string' || field.type === 'bytes'),
      max: maxBytesElements,
      refuse: (input) =>
        overLimit(
          `request has more than ${maxBytesElements} string and bytes list elements (at '${input}')`,
          maxBytesElements,
          'maxBytesElements',
        ),
    },
    {
      counts: (field) => field.repeated && isTensorProto(field.type),
      max: maxInputs,
      refuse: (input) =>
        overLimit(`request has more than ${maxInputs} tensors in lists (at '${input}')`, maxInputs, 'maxInputs'),
    },
    {
      counts: (field) => isTensorProto(field.message) && field.name === 'shape',
      per: 'message',
      max: MAX_REQUEST_DIMS,
      refuse: (input) =>
        new ValidationError(
          `Input '${input}': shape has more than ${MAX_REQUEST_DIMS} dimensions; at most ${MAX_REQUEST_DIMS} are accepted`,
          input,
        ),
    },
  ];
}
