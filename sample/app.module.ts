import { Module, type DynamicModule } from '@nestjs/common';
import { BlazeRpcModule, type BlazeRpcModuleOptions } from '../lib/index.js';
import { OnnxModule } from '../lib/runtimes/onnx/index.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { IrisModels } from './iris/iris.models.js';
import { ModelsController } from './models.controller.js';
import { sampleConfig } from './sample.config.js';
import { TextModels } from './text/text.models.js';

/** The sample app; `overrides` lets tests bind port 0 and skip writing the .proto. */
@Module({})
export class AppModule {
  static forRoot(overrides: BlazeRpcModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BlazeRpcModule.forRoot({
          port: sampleConfig.grpcPort(),
          gracePeriodMs: sampleConfig.gracePeriodMs(),
          metrics: true,
          protoFile: sampleConfig.protoFile(),
          ...overrides,
        }),
        OnnxModule.register({ name: 'iris', source: sampleConfig.irisModelPath() }),
      ],
      controllers: [ModelsController],
      providers: [TextModels, IrisModels, ApiKeyGuard],
    };
  }
}
