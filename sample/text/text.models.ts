import { Injectable, UseGuards } from '@nestjs/common';
import { BlazeContext, Ctx, Depends, Input, Model } from '../../lib/index.js';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { callerOf } from '../auth/caller.dependency.js';

/** The sample's text models. */
@Injectable()
export class TextModels {
  /** Returns the text unchanged. */
  @Model('echo', { description: 'Returns the text unchanged.' })
  echo(@Input('text') text: string): string {
    return text;
  }

  /** Streams the prompt's whitespace-separated words, one per message. */
  @Model('tokens', { returns: String, description: "Streams the prompt's words, one per message." })
  async *tokens(@Input('prompt') prompt: string): AsyncGenerator<string> {
    for (const word of prompt.split(/\s+/).filter(Boolean)) {
      yield word;
    }
  }

  /** Needs `authorization: Bearer <token>` metadata. */
  @Model('secure', { description: "Greets an authenticated caller; send 'authorization: Bearer <token>'." })
  @UseGuards(ApiKeyGuard)
  secure(@Input('text') text: string, @Depends(callerOf) caller: string): string {
    return `Hello ${caller}, you said: ${text}`;
  }

  /** Tells the caller which method it called and from where. */
  @Model('info', { description: 'Reports the called method and the peer.' })
  info(@Ctx() ctx: BlazeContext): string {
    return `method=${ctx.method} peer=${ctx.peer}`;
  }
}
