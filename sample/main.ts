import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { BlazeRpcServer } from '../lib/index.js';
import { AppModule } from './app.module.js';
import { sampleConfig } from './sample.config.js';
import { startTracingFromEnvironment } from './tracing.js';

async function bootstrap(): Promise<void> {
  // Before Nest boots, so the first call is traced too (only when OTEL_* variables ask for it).
  const stopTracing = await startTracingFromEnvironment();
  const app = await NestFactory.create(AppModule.forRoot());
  if (stopTracing) process.once('beforeExit', () => void stopTracing());
  // SIGTERM/SIGINT -> app.close(): health NOT_SERVING, in-flight calls finish, then exit.
  app.enableShutdownHooks();
  app.connectMicroservice({ strategy: app.get(BlazeRpcServer) });
  await app.startAllMicroservices();
  await app.listen(sampleConfig.httpPort(), sampleConfig.httpHost());
}

void bootstrap();
