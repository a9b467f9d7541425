import { Injectable } from '@nestjs/common';
import { Input, Model, Stream, UInt32 } from 'nestjs-blazerpc';

@Injectable()
export class GreeterModels {
  @Model('greet', { description: 'Greets someone.' })
  greet(@Input('name') name: string): string {
    return `Hello, ${name}!`;
  }

  @Model('count', { returns: UInt32 })
  async count(@Input('text', Stream(String)) texts: AsyncIterable<string>): Promise<number> {
    let words = 0;
    for await (const text of texts) words += text.split(/\s+/).filter(Boolean).length;
    return words;
  }
}
