import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { BlazeRpcServer } from '../lib/index.js';
import { AppModule } from './app.module.js';
import { sampleConfig } from './sample.config.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule.forRoot());
  // SIGTERM/SIGINT -> app.close(): health NOT_SERVING, in-flight calls finish, then exit.
  app.enableShutdownHooks();
  app.connectMicroservice({ strategy: app.get(BlazeRpcServer) });
  await app.startAllMicroservices();
  await app.listen(sampleConfig.httpPort(), sampleConfig.httpHost());
}

void bootstrap();
