import type { PipeTransform, Type } from '@nestjs/common';
import type { InputTypeRef } from '../schema/input-type-ref.js';
import { isInputTypeRef } from '../schema/input-type-ref.js';
import { recordInputArg, recordModelParam } from './model-param.metadata.js';

/**
 * Binds a parameter to a request field. Fields are numbered 1..N in parameter
 * order. The type is read from the signature when that is unambiguous
 * (`string`, `boolean`, `number` as double, `Buffer`); otherwise give a token.
 * Pipes given here run on this field only.
 *
 * @example
 * ```ts
 * echo(@Input('text') text: string) {}
 * score(@Input('tokens', [String]) tokens: string[]) {}
 * iris(@Input('features', Tensor.of('float32', ['batch', 4])) x: Tensor) {}
 * tally(@Input('text', Stream(String)) texts: AsyncIterable<string>) {} // the client streams; pipes run per message
 * ```
 */
export function Input(
  name: string,
  type?: InputTypeRef,
  ...pipes: (PipeTransform | Type<PipeTransform>)[]
): ParameterDecorator;
export function Input(name: string, ...pipes: (PipeTransform | Type<PipeTransform>)[]): ParameterDecorator;
export function Input(name: string, ...rest: unknown[]): ParameterDecorator {
  const type = rest.length > 0 && isInputTypeRef(rest[0]) ? (rest.shift() as InputTypeRef) : undefined;
  const pipes = rest as (PipeTransform | Type<PipeTransform>)[];
  return (target, key, index) => {
    if (key === undefined) return;
    recordModelParam(target, key, { kind: 'input', index, name, type });
    recordInputArg(target, key, index, name, pipes);
  };
}
