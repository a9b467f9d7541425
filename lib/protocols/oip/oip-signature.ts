import type { FieldType } from '../../core/schema/field-type.js';
import type { ScalarProtoType } from '../../core/schema/scalar-type.js';
import type { ModelDescriptor, ModelFieldSpec } from '../../core/schema/model-descriptor.interface.js';
import { DTYPE_TO_OIP, type OipDatatype } from '../shared/oip-datatype.js';

/** How one model input or output looks over OIP. */
export interface OipTensorSignature {
  readonly name: string;
  readonly datatype: OipDatatype;
  /** Declared shape, `-1` for a symbolic or variable dimension. */
  readonly shape: readonly number[];
  /** The declared field it stands for. */
  readonly field: ModelFieldSpec;
}

/** A model version's inputs and outputs over OIP, or why it cannot be served there. */
export type OipSignature =
  | { readonly inputs: readonly OipTensorSignature[]; readonly outputs: readonly OipTensorSignature[] }
  | { readonly unsupported: string };

const SCALAR_DATATYPE: Readonly<Record<ScalarProtoType, OipDatatype>> = {
  string: 'BYTES',
  bytes: 'BYTES',
  bool: 'BOOL',
  float: 'FP32',
  double: 'FP64',
  int32: 'INT32',
  uint32: 'UINT32',
  int64: 'INT64',
  uint64: 'UINT64',
};

/**
 * @internal A model's declaration as OIP tensors: a tensor field keeps its
 * dtype and shape (symbolic dimensions as -1), a scalar field is a tensor of
 * shape [1], a list of scalars one of shape [-1] (strings and bytes as BYTES).
 * The single output is named `result`; named outputs keep their names. A list
 * of tensors has no OIP form, so such a model is listed but not served. A
 * streaming-input model's one input is the type of each of its messages.
 */
export function oipSignatureOf(model: ModelDescriptor): OipSignature {
  const inputs: OipTensorSignature[] = [];
  const outputs: OipTensorSignature[] = [];
  for (const [fields, into] of [
    [model.inputs, inputs],
    [model.outputs, outputs],
  ] as const) {
    for (const field of fields) {
      const tensor = tensorOf(field.type);
      if (!tensor)
        return { unsupported: `'${field.name}' is a list of tensors, which has no Open Inference Protocol form` };
      into.push({ name: field.name, ...tensor, field });
    }
  }
  return { inputs, outputs };
}

function tensorOf(type: FieldType): { datatype: OipDatatype; shape: number[] } | undefined {
  switch (type.kind) {
    case 'tensor':
      return {
        datatype: DTYPE_TO_OIP[type.spec.dtype],
        shape: type.spec.shape.map((dim) => (typeof dim === 'string' ? -1 : dim)),
      };
    case 'scalar':
      return { datatype: SCALAR_DATATYPE[type.protoType], shape: [1] };
    case 'list':
      return type.element.kind === 'scalar'
        ? { datatype: SCALAR_DATATYPE[type.element.protoType], shape: [-1] }
        : undefined;
  }
}
