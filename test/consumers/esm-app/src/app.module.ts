import { Module } from '@nestjs/common';
import { BlazeRpcModule } from 'nestjs-blazerpc';
import { GreeterModels } from './greeter.models.js';

@Module({
  imports: [BlazeRpcModule.forRoot({ port: 50051 })],
  providers: [GreeterModels],
})
export class AppModule {}
