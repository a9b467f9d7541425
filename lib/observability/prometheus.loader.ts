import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type * as NestPrometheus from '@willsoto/nestjs-prometheus';
import { ConfigurationError } from '../core/errors/configuration.error.js';

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
      // Installed, but a module it requires is missing (@willsoto/nestjs-prometheus without prom-client): only that one is named.
      if (!(error as Error).message.includes(`'${name}'`)) return undefined;
      missing.push(name);
      return undefined;
    }
  };
  const promClient = attempt<typeof PromClient>('prom-client');
  const nestPrometheus = attempt<typeof NestPrometheus>('@willsoto/nestjs-prometheus');
  if (!promClient || !nestPrometheus) {
    throw new ConfigurationError(
      `BlazeRpcModule option 'metrics' needs ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed. ` +
        `Install ${missing.length > 1 ? 'them' : 'it'} with \`npm install ${missing.join(' ')}\`, or leave metrics off.`,
    );
  }
  loaded = { promClient, nestPrometheus };
  return loaded;
}
