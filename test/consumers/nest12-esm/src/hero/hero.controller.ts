import { Controller, UseGuards } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { ApiKeyGuard } from '../auth/api-key.guard.js';

/** A controller on Nest's own gRPC transport, from Nest's gRPC docs. */
@Controller()
export class HeroController {
  @UseGuards(ApiKeyGuard)
  @GrpcMethod('HeroesService', 'FindOne')
  findOne({ id }: { id: number }): { id: number; name: string } {
    return { id, name: id === 1 ? 'John' : 'Doe' };
  }
}
