import type { ModelMetadata } from '../decorators/model.decorator.js';
import type { ModelParamMetadata } from '../decorators/model-param.metadata.js';

/** @internal Everything the explorer read off one `@Model()` method, before validation. */
export interface ModelDeclaration {
  readonly className: string;
  readonly methodName: string;
  readonly metadata: ModelMetadata;
  /** Parameters decorated with `@Input`, `@Ctx` or `@Depends`. */
  readonly params: readonly ModelParamMetadata[];
  /** Parameters decorated by other Nest param decorators (`createParamDecorator`). */
  readonly customParamIndexes: readonly number[];
  /** `design:paramtypes` of the method. */
  readonly paramtypes: readonly unknown[];
  /** `design:returntype` of the method. */
  readonly returntype: unknown;
  /** The method is a (sync or async) generator function. */
  readonly isGenerator: boolean;
  /** The provider is request-scoped (or depends on one). */
  readonly requestScoped: boolean;
}
