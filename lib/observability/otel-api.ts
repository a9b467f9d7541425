import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';

/**
 * @internal `@opentelemetry/api`, when the app has it installed (an optional
 * peer dependency), else `undefined`: tracing and OTel metrics then cost
 * nothing at all. Loaded once, synchronously, so the first call is traced too.
 */
export const otel: typeof OtelApi | undefined = (() => {
  try {
    // Where a CommonJS `require` exists (a CommonJS build, or a test runner's module registry), load through it,
    // so this is the same copy of the API the app's SDK registered with; in ESM, through createRequire.
    const load = typeof require === 'function' ? require : createRequire(import.meta.url);
    return load('@opentelemetry/api') as typeof OtelApi;
  } catch {
    return undefined;
  }
})();
