import { Injectable, UseGuards } from '@nestjs/common';
import { Input, Model } from 'nestjs-blazerpc';
import { ApiKeyGuard } from '../auth/api-key.guard';

/** Models served over gRPC by nestjs-blazerpc, behind the same guard as HeroController. */
@Injectable()
@UseGuards(ApiKeyGuard)
export class GreeterModels {
  @Model('greet', { description: 'Greets someone.' })
  greet(@Input('name') name: string): string {
    return `Hello, ${name}!`;
  }
}
