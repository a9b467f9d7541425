/**
 * A decoded request as every protocol hands it to the pipeline: one value per
 * model input, keyed by input name (a `Tensor`, a string, a number, a list...).
 */
export type ModelRequest = Record<string, unknown>;
