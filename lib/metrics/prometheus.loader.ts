import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type * as NestPrometheus from '@willsoto/nestjs-prometheus';
import { ConfigurationError } from '../errors/configuration.error.js';

/** @internal The two optional peers `metrics` needs. */
export interface PrometheusLibraries {
  readonly promClient: typeof PromClient;
  readonly nestPrometheus: typeof NestPrometheus;
}

let loaded: PrometheusLibraries | undefined;

/**
 * @internal Loads prom-client and @willsoto/nestjs-prometheus, optional peer
 * dependencies, the first time an app turns metrics on; when either is
 * missing, fails at startup saying how to install them. Synchronous, because
 * Nest builds the module's providers synchronously.
 */
export function loadPrometheus(): PrometheusLibraries {
  if (loaded) return loaded;
  // Through the app's module system, so the app and this library share one prom-client registry.
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  const missing: string[] = [];
  const attempt = <T>(name: string): T | undefined => {
    try {
      return load(name) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
      missing.push(name);
      return undefined;
    }
  };
  const promClient = attempt<typeof PromClient>('prom-client');
  const nestPrometheus = attempt<typeof NestPrometheus>('@willsoto/nestjs-prometheus');
  if (!promClient || !nestPrometheus) {
    throw new ConfigurationError(
      `BlazeRpcModule option 'metrics' needs ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed. ` +
        'Install the Prometheus peers with `npm install prom-client @willsoto/nestjs-prometheus`, or leave metrics off.',
    );
  }
  loaded = { promClient, nestPrometheus };
  return loaded;
}
