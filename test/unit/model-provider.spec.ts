import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Float32, Input, Model } from '../../lib/index.js';

/** A dependency a model provider would load from disk or a network in production. */
@Injectable()
class Lexicon {
  polarity(word: string): number {
    throw new Error(`the real lexicon is not loaded in unit tests (asked for '${word}')`);
  }
}

@Injectable()
class SentimentModels {
  constructor(private readonly lexicon: Lexicon) {}

  @Model('sentiment', { returns: Float32 })
  score(@Input('text') text: string): number {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    return words.reduce((sum, word) => sum + this.lexicon.polarity(word), 0) / Math.max(words.length, 1);
  }
}

describe('unit-testing a model provider with Test.createTestingModule', () => {
  it('runs the model method with an overridden dependency, no server needed', async () => {
    const moduleRef = await Test.createTestingModule({ providers: [SentimentModels, Lexicon] })
      .overrideProvider(Lexicon)
      .useValue({ polarity: (word: string) => ({ good: 1, bad: -1 })[word] ?? 0 })
      .compile();
    const models = moduleRef.get(SentimentModels);
    expect(models.score('Good good bad meh')).toBe(0.25);
  });
});
