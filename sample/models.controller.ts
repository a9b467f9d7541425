import { Controller, Get } from '@nestjs/common';
import { ModelRegistry } from '../lib/index.js';

/** HTTP view of what the gRPC server serves. */
@Controller()
export class ModelsController {
  constructor(private readonly registry: ModelRegistry) {}

  @Get('models')
  models() {
    return this.registry
      .list()
      .map(({ name, version, streaming, rpcMethods }) => ({ name, version, streaming, rpcMethods }));
  }
}
