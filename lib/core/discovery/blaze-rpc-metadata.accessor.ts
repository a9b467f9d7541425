import { ROUTE_ARGS_METADATA, CUSTOM_ROUTE_ARGS_METADATA } from '../nest-internals.js';
import { Injectable } from '@nestjs/common';
import { MODEL_METADATA, MODEL_PARAMS_METADATA } from '../blaze-rpc.constants.js';
import type { ModelMetadata } from '../decorators/model.decorator.js';
import type { ModelParamMetadata } from '../decorators/model-param.metadata.js';

/** @internal Reads what the decorators stored on a model method. */
@Injectable()
export class BlazeRpcMetadataAccessor {
  getModelMetadata(method: unknown): ModelMetadata | undefined {
    return typeof method === 'function' ? Reflect.getMetadata(MODEL_METADATA, method) : undefined;
  }

  getParams(classRef: object, methodName: string): ModelParamMetadata[] {
    return Reflect.getMetadata(MODEL_PARAMS_METADATA, classRef, methodName) ?? [];
  }

  /** Indexes of parameters decorated by Nest custom param decorators other than ours. */
  getCustomParamIndexes(classRef: object, methodName: string, ours: readonly ModelParamMetadata[]): number[] {
    const args: Record<string, { index: number }> =
      Reflect.getMetadata(ROUTE_ARGS_METADATA, classRef, methodName) ?? {};
    const taken = new Set(ours.map((p) => p.index));
    return Object.entries(args)
      .filter(([key, arg]) => key.includes(CUSTOM_ROUTE_ARGS_METADATA) && !taken.has(arg.index))
      .map(([, arg]) => arg.index);
  }

  getParamTypes(prototype: object, methodName: string): unknown[] {
    return Reflect.getMetadata('design:paramtypes', prototype, methodName) ?? [];
  }

  getReturnType(prototype: object, methodName: string): unknown {
    return Reflect.getMetadata('design:returntype', prototype, methodName);
  }
}
