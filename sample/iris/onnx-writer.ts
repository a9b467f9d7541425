import protobuf from 'protobufjs';

/**
 * The part of the ONNX schema (onnx.proto3, IR version 8) a small
 * feed-forward graph needs. Field numbers are the ones in onnx.proto.
 */
const ONNX_SUBSET = `
syntax = "proto3";
package onnx;
message AttributeProto {
  string name = 1; float f = 2; int64 i = 3; repeated int64 ints = 8; int32 type = 20;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4;
  repeated AttributeProto attribute = 5;
}
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; string name = 8; bytes raw_data = 9; }
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message GraphProto {
  repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5;
  string doc_string = 10; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message ModelProto {
  int64 ir_version = 1; string producer_name = 2; string producer_version = 3; string doc_string = 6;
  GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8;
}
`;

/** ONNX TensorProto.DataType codes. */
const ELEM_TYPE = { float: 1, int64: 7 } as const;
/** ONNX AttributeProto.AttributeType codes. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, ints: 7 } as const;

/** A graph input or output. */
export interface OnnxValueSpec {
  name: string;
  elemType: keyof typeof ELEM_TYPE;
  /** Sizes, or names for dynamic dimensions (e.g. 'batch'). */
  shape: (number | string)[];
}

/** One operator. Attributes: an integer, a float (`{ float: x }`), or a list of integers. */
export interface OnnxNodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number | { float: number } | number[]>;
}

/** A float32 constant (weights, biases). */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  values: Float32Array;
}

/** A whole model: one graph at one opset. */
export interface OnnxGraphSpec {
  name: string;
  doc?: string;
  inputs: OnnxValueSpec[];
  outputs: OnnxValueSpec[];
  initializers: OnnxInitializer[];
  nodes: OnnxNodeSpec[];
  /** Default opset 13. */
  opset?: number;
}

const root = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

/** Encodes a graph as ONNX model bytes that onnxruntime loads. */
export function writeOnnxModel(spec: OnnxGraphSpec): Uint8Array {
  const model = {
    ir_version: 8,
    producer_name: 'nestjs-blazerpc sample',
    producer_version: '1',
    opset_import: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: spec.name,
      doc_string: spec.doc ?? '',
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: spec.initializers.map((init) => ({
        name: init.name,
        dims: init.dims,
        data_type: ELEM_TYPE.float,
        raw_data: Buffer.from(init.values.buffer, init.values.byteOffset, init.values.byteLength),
      })),
      node: spec.nodes.map((node, i) => ({
        name: `${node.op}_${i}`,
        op_type: node.op,
        input: node.inputs,
        output: node.outputs,
        attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => attribute(name, value)),
      })),
    },
  };
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`Invalid ONNX model: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

function valueInfo(value: OnnxValueSpec) {
  const dim = value.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name: value.name, type: { tensor_type: { elem_type: ELEM_TYPE[value.elemType], shape: { dim } } } };
}

function attribute(name: string, value: number | { float: number } | number[]) {
  if (Array.isArray(value)) return { name, type: ATTRIBUTE_TYPE.ints, ints: value };
  if (typeof value === 'object') return { name, type: ATTRIBUTE_TYPE.float, f: value.float };
  return { name, type: ATTRIBUTE_TYPE.int, i: value };
}
