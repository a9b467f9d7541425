/**
 * Injection token of the current call's `BlazeContext` in request-scoped
 * providers: `constructor(@Inject(BLAZE_CONTEXT) ctx: BlazeContext)`.
 * Nest's `REQUEST` (and `CONTEXT` from @nestjs/microservices) resolve to the same object.
 */
export const BLAZE_CONTEXT = 'BLAZE_CONTEXT';

/** @internal Metadata key of `@Model()` on a method. */
export const MODEL_METADATA = 'blazerpc:model';
/** @internal Metadata key of the `@Input`/`@Ctx`/`@Depends` parameter list of a method. */
export const MODEL_PARAMS_METADATA = 'blazerpc:model-params';
/** @internal Injection token of the validated, defaulted module options. */
export const RESOLVED_OPTIONS = Symbol('blazerpc:resolved-options');

/** Name of the one service that carries every model. */
export const INFERENCE_SERVICE = 'InferenceService';
