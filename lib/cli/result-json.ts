import { tensorToJson } from '../client/client-message.convert.js';
import { Tensor } from '../core/tensor/tensor.js';

/** A result or reply as one JSON line: tensors as { dtype, shape, data }, bigints as strings, bytes as base64. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v instanceof Tensor) return tensorToJson(v);
    if (typeof v === 'bigint') return v.toString();
    if (v && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data).toString('base64');
    return v;
  });
}
