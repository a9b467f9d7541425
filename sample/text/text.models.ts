import { Injectable, UseGuards } from '@nestjs/common';
import { BlazeContext, Ctx, Depends, Input, Model, Stream, UInt32 } from '../../lib/index.js';
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

  /** Client streaming: the total number of whitespace-separated words over every message (none: 0). */
  @Model('tally', { returns: UInt32, description: 'Counts the words of every message the client streams in.' })
  async tally(@Input('text', Stream(String)) texts: AsyncIterable<string>): Promise<number> {
    let words = 0;
    for await (const text of texts) words += text.split(/\s+/).filter(Boolean).length;
    return words;
  }

  /** Both ways: each message comes back upper-cased, before the next one is read. */
  @Model('relay', { returns: String, description: 'Answers each streamed message with its text upper-cased, at once.' })
  async *relay(@Input('text', Stream(String)) texts: AsyncIterable<string>): AsyncGenerator<string> {
    for await (const text of texts) yield text.toUpperCase();
  }

  /** Tells the caller which method it called and from where. */
  @Model('info', { description: 'Reports the called method and the peer.' })
  info(@Ctx() ctx: BlazeContext): string {
    return `method=${ctx.method} peer=${ctx.peer}`;
  }
}
