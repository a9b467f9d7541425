import { Module } from '@nestjs/common';
import { createObserveModule } from '@nestjs/observe';
import { BlazeRpcModule } from 'nestjs-blazerpc';
import { OnnxModule } from 'nestjs-blazerpc/onnx';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';
import { HeroController } from './hero/hero.controller.js';
import { GreeterModels } from './models/greeter.models.js';

export const { ObserveModule, ObserveInstrument } = createObserveModule();

@Module({
  imports: [
    // Distributed tracing, auto-correlated logs, request/job metrics, error
    // telemetry, alarms, and more — out of the box. Sign up at https://observe.nestjs.com,
    // then run `npx @nestjs/observe link` to write your key pair into .env.
    ObserveModule.forRoot({
      appKey: process.env.OBSERVE_APP_KEY ?? 'YOUR_APP_KEY',
      appSecret: process.env.OBSERVE_APP_SECRET ?? 'YOUR_APP_SECRET',
      serviceId: 'nest12-app',
    }),
    BlazeRpcModule.forRoot({
      port: Number(process.env.MODELS_PORT ?? 50051),
      metrics: true,
    }),
    OnnxModule.serve('iris', 'models/iris.onnx'),
  ],
  controllers: [AppController, HeroController],
  providers: [AppService, GreeterModels],
})
export class AppModule {}
