import { Injectable, Module, type LoggerService, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlazeRpcModule, BlazeRpcServer } from '../../lib/index.js';
import { TextModels } from '../../sample/text/text.models.js';
import { HealthClient } from '../helpers/health-client.js';
import { startApp, testServerOptions } from '../helpers/start-app.js';

/** A logger that keeps the warnings. */
function capturingLogger(): LoggerService & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    log: () => undefined,
    error: () => undefined,
    warn: (message: unknown) => void warnings.push(String(message)),
  };
}

@Injectable()
class NoModels {}

const bindMethod = (target: object, value: unknown) =>
  typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;

describe('startup mistakes fail fast or say how to fix them', () => {
  it('a server never mounted with connectMicroservice gets a warning naming the fix', async () => {
    const logger = capturingLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot(testServerOptions)],
      providers: [TextModels],
    }).compile();
    const app = moduleRef.createNestApplication({ logger });
    await app.init();
    try {
      expect(
        logger.warnings.some(
          (w) =>
            w.includes('BlazeRpcServer is not mounted') &&
            w.includes('app.connectMicroservice({ strategy: app.get(BlazeRpcServer) })'),
        ),
      ).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('a mounted server gets no such warning', async () => {
    const logger = capturingLogger();
    const running = await startApp(
      { imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [TextModels] },
      { logger },
    );
    await running.app.close();
    expect(logger.warnings.filter((w) => w.includes('not mounted'))).toEqual([]);
  });

  it('a server mounted through an instrumented app (a proxy of it, as @nestjs/observe makes) gets no such warning', async () => {
    @Module({ imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [TextModels] })
    class InstrumentedModule {}
    const logger = capturingLogger();
    // As @nestjs/observe's decorator does to providers, this one hands Nest a proxy of the server whose methods run on
    // the server itself (an instrumented method calls the original with its own receiver).
    const runOnTarget = { get: (target: object, key: PropertyKey) => bindMethod(target, Reflect.get(target, key)) };
    const instrument = {
      instanceDecorator: (instance: unknown) =>
        instance instanceof BlazeRpcServer ? new Proxy(instance, runOnTarget) : instance,
    };
    const app = await NestFactory.create(InstrumentedModule, { logger, instrument } as NestApplicationOptions);
    app.connectMicroservice({ strategy: app.get(BlazeRpcServer) });
    await app.startAllMicroservices();
    await app.init();
    try {
      await expect(new HealthClient(`127.0.0.1:${app.get(BlazeRpcServer).port}`).check('')).resolves.toBe('SERVING');
      expect(logger.warnings.filter((w) => w.includes('not mounted'))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('no models: health and reflection are served, with a warning that says what to add', async () => {
    const logger = capturingLogger();
    const running = await startApp(
      { imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [NoModels] },
      { logger },
    );
    const health = new HealthClient(running.address);
    try {
      await expect(health.check('')).resolves.toBe('SERVING');
      expect(logger.warnings.some((w) => w.includes('No @Model() methods found') && w.includes('Add @Model()'))).toBe(
        true,
      );
    } finally {
      health.close();
      await running.app.close();
    }
  });

  it('a port in use fails with the address and the option to change, before any .proto is written', async () => {
    const first = await startApp({ imports: [BlazeRpcModule.forRoot(testServerOptions)], providers: [TextModels] });
    const protoFile = join(mkdtempSync(join(tmpdir(), 'blazerpc-bind-')), 'models.proto');
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [BlazeRpcModule.forRoot({ ...testServerOptions, port: first.port, protoFile })],
        providers: [TextModels],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      app.connectMicroservice({ strategy: app.get(BlazeRpcServer) });
      await expect(app.startAllMicroservices()).rejects.toThrow(
        new RegExp(
          `cannot listen on 127\\.0\\.0\\.1:${first.port} \\(BlazeRpcModule options 'host'/'port', or 'url'\\).*port: 0`,
        ),
      );
      expect(existsSync(protoFile)).toBe(false);
      await app.close();
    } finally {
      await first.app.close();
    }
  });
});
