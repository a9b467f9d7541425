/**
 * @internal The OIP messages as the protobuf layer reads and writes them
 * (field names as in the .proto, 64-bit integers as strings, bytes as Buffers),
 * only the parts the client touches.
 */

/** One `InferParameter`: exactly one of the fields is set. */
export interface InferParameterMessage {
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
}

export type ParameterMapMessage = Record<string, InferParameterMessage>;

export interface InferTensorContentsMessage {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: string[];
  uint_contents?: number[];
  uint64_contents?: string[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

export interface InferTensorMessage {
  name: string;
  datatype: string;
  shape: (string | number)[];
  parameters?: ParameterMapMessage;
  contents?: InferTensorContentsMessage | null;
}

export interface ModelInferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: ParameterMapMessage;
  inputs: InferTensorMessage[];
  outputs: { name: string; parameters: ParameterMapMessage }[];
  raw_input_contents: Uint8Array[];
}

export interface ModelInferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: ParameterMapMessage;
  outputs: InferTensorMessage[];
  raw_output_contents: Uint8Array[];
}

export interface ModelStreamInferResponseMessage {
  error_message: string;
  infer_response?: ModelInferResponseMessage | null;
}
