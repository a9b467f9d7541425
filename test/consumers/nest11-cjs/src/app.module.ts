import { Module } from '@nestjs/common';
import { BlazeRpcModule } from 'nestjs-blazerpc';
import { OnnxModule } from 'nestjs-blazerpc/onnx';
import { AppController } from './app.controller';
import { AppService } from './app.service';
import { HeroController } from './hero/hero.controller';
import { GreeterModels } from './models/greeter.models';

@Module({
  imports: [
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
