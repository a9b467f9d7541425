import { ConfigurationError } from '../errors/configuration.error.js';
import { normalizeDType, TENSOR_DTYPES, type TensorDType, type TensorDTypeName } from './tensor-dtype.js';

/** One dimension of a declared shape: a fixed size, or a symbolic name such as `'batch'`. */
export type TensorDim = number | string;

/**
 * The declared dtype and shape of a tensor input or output. Create it with
 * `Tensor.of(dtype, shape)`.
 */
export class TensorSpec {
  readonly dtype: TensorDType;

  constructor(
    dtype: TensorDTypeName,
    readonly shape: readonly TensorDim[],
  ) {
    const wireDType = normalizeDType(dtype);
    if (!wireDType) {
      throw new ConfigurationError(
        `Unknown tensor dtype '${dtype}'. Use one of: ${TENSOR_DTYPES.join(', ')} (or float32/float64).`,
      );
    }
    for (const dim of shape) {
      const valid = typeof dim === 'string' ? /^[A-Za-z_]\w*$/.test(dim) : Number.isInteger(dim) && dim >= 0;
      if (!valid) {
        throw new ConfigurationError(
          `Invalid tensor dimension ${JSON.stringify(dim)} in Tensor.of('${dtype}', ${JSON.stringify(shape)}): ` +
            `use a non-negative integer or a symbolic name such as 'batch'.`,
        );
      }
    }
    this.dtype = wireDType;
  }

  /** Readable form used in messages, e.g. `Tensor<float>[batch, 4]`. */
  toString(): string {
    return `Tensor<${this.dtype}>[${this.shape.join(', ')}]`;
  }
}
