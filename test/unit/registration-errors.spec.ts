import { Controller, Injectable, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BlazeRpcModule,
  ConfigurationError,
  Ctx,
  BlazeContext,
  Input,
  Model,
  ModelRegistry,
  Stream,
  Tensor,
} from '../../lib/index.js';

/** Compiles and initialises a module holding `providers`; resolves to the error init failed with. */
async function initError(...providers: Type[]): Promise<ConfigurationError> {
  const moduleRef = await Test.createTestingModule({
    imports: [BlazeRpcModule.forRoot({ protoFile: false })],
    providers,
  }).compile();
  try {
    await moduleRef.init();
  } catch (error) {
    return error as ConfigurationError;
  } finally {
    await moduleRef.close();
  }
  throw new Error('expected init to fail');
}

describe('registration errors fail startup with the fix', () => {
  it('an array parameter without a token names class, method, parameter and the fix', async () => {
    @Injectable()
    class Bad {
      @Model('batch', { returns: String })
      run(@Input('texts') texts: string[]) {
        return texts.join();
      }
    }
    const error = await initError(Bad);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      "@Model('batch') on Bad.run: parameter #0 ('texts') is an array, which does not say its wire type. " +
        "Give a type token, e.g. @Input('texts', [String]).",
    );
  });

  it('a mistyped @Model option names the option and the closest one', async () => {
    @Injectable()
    class Typo {
      @Model('echo', { returns: String, descripton: 'echoes' } as never)
      run(@Input('text', String) text: string) {
        return text;
      }
    }
    expect((await initError(Typo)).message).toBe(
      "@Model('echo') on Typo.run: option 'descripton' is unknown. Did you mean 'description'? Known: version, default, returns, streaming, description, batching.",
    );
  });

  it('a version given as a whole number is taken as its digits; another type names the type expected', async () => {
    @Injectable()
    class Numbered {
      @Model('echo', { returns: String, version: 2 as never })
      run(@Input('text', String) text: string) {
        return text;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot({ protoFile: false })],
      providers: [Numbered],
    }).compile();
    await moduleRef.init();
    expect(
      moduleRef
        .get(ModelRegistry)
        .list()
        .map((model) => `${model.name}@${model.version}`),
    ).toEqual(['echo@2']);
    await moduleRef.close();

    @Injectable()
    class Wrong {
      @Model('echo', { returns: String, version: true as never })
      run(@Input('text', String) text: string) {
        return text;
      }
    }
    expect((await initError(Wrong)).message).toBe(
      "@Model('echo') on Wrong.run: version must be a string (or a whole number), got boolean true, e.g. { version: '2' }.",
    );
  });

  it('a tensor parameter without a spec shows Tensor.of', async () => {
    @Injectable()
    class Bad {
      @Model('iris', { returns: String })
      run(@Input('x') x: Tensor) {
        return String(x);
      }
    }
    expect((await initError(Bad)).message).toContain("@Input('x', Tensor.of('float32', ['batch', 4]))");
  });

  it('an unknown parameter type asks for a token', async () => {
    @Injectable()
    class Bad {
      @Model('obj', { returns: String })
      run(@Input('payload') payload: object) {
        return String(payload);
      }
    }
    expect((await initError(Bad)).message).toContain("has type 'Object'");
  });

  it('an undecorated parameter says which decorators to use', async () => {
    @Injectable()
    class Bad {
      @Model('echo')
      run(@Input('a') a: string, b: string): string {
        return a + b;
      }
    }
    expect((await initError(Bad)).message).toBe(
      "@Model('echo') on Bad.run: parameter #1 has no decorator, so nothing would be passed to it. " +
        "Mark it @Input('name') for a request field, @Ctx() for the call context, or @Depends(fn) for a per-call dependency.",
    );
  });

  it('a result type that cannot be inferred asks for returns', async () => {
    @Injectable()
    class Bad {
      @Model('later')
      async run(@Input('a') a: string) {
        return a;
      }
    }
    expect((await initError(Bad)).message).toBe(
      "@Model('later') on Bad.run: the result type cannot be read from the method signature. Declare it, e.g. @Model('later', { returns: String }).",
    );
  });

  it('the same model and version declared twice names both handlers', async () => {
    @Injectable()
    class One {
      @Model('dup')
      a(@Input('x') x: string): string {
        return x;
      }
    }
    @Controller()
    class Two {
      @Model('dup')
      b(@Input('x') x: string): string {
        return x;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot({ protoFile: false })],
      providers: [One],
      controllers: [Two],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow("Model 'dup' version '1' is declared twice: by One.a and by Two.b.");
  });

  it('names that collide after PascalCase are refused', async () => {
    @Injectable()
    class Bad {
      @Model('text-gen')
      a(@Input('x') x: string): string {
        return x;
      }
      @Model('text_gen')
      b(@Input('x') x: string): string {
        return x;
      }
    }
    expect((await initError(Bad)).message).toMatch(
      /^Generated name 'PredictTextGen' is produced by both @Model\('text-gen'.*and @Model\('text_gen'/,
    );
  });

  it.each([
    ['9lives', 'is invalid'],
    ['has space', 'is invalid'],
  ])("model name '%s' is refused", async (name, problem) => {
    @Injectable()
    class Bad {
      @Model(name)
      run(@Input('x') x: string): string {
        return x;
      }
    }
    expect((await initError(Bad)).message).toContain(`model name '${name}' ${problem}`);
  });

  it('an input named after a proto keyword is refused with a rename hint', async () => {
    @Injectable()
    class Bad {
      @Model('kw')
      run(@Input('package') x: string): string {
        return x;
      }
    }
    expect((await initError(Bad)).message).toContain(
      "input name 'package' is a proto keyword. Rename it, e.g. 'package_value'.",
    );
  });

  it('a streamed input beside other inputs is refused, naming them and the fix', async () => {
    @Injectable()
    class Mixed {
      @Model('mixed', { returns: String })
      async mixed(@Input('chunk', Stream(String)) chunks: AsyncIterable<string>, @Input('language') language: string) {
        for await (const chunk of chunks) return `${language}:${chunk}`;
        return language;
      }
    }
    const error = await initError(Mixed);
    expect(error.message).toBe(
      "@Model('mixed') on Mixed.mixed: input 'chunk' is a Stream(...), so it must be the model's only @Input (it has 'chunk', 'language'): " +
        'each streamed request message carries that one field. Stream one input, or take the others as a tensor or list in it; @Ctx() and @Depends() may stay.',
    );
  });

  it('a generator declared { streaming: false } is a mismatch', async () => {
    @Injectable()
    class Bad {
      @Model('gen', { streaming: false, returns: String })
      async *run(@Input('x') x: string) {
        yield x;
      }
    }
    expect((await initError(Bad)).message).toContain(
      'the method is a generator, so it streams, but { streaming: false } was given',
    );
  });

  it('{ streaming: true } on a method that returns one string is a mismatch', async () => {
    @Injectable()
    class Bad {
      @Model('one', { streaming: true })
      run(@Input('x') x: string): string {
        return x;
      }
    }
    expect((await initError(Bad)).message).toContain('{ streaming: true } but the method returns a single value');
  });

  it('an invalid module option names the option', async () => {
    await expect(
      Test.createTestingModule({ imports: [BlazeRpcModule.forRoot({ port: 70000 })] }).compile(),
    ).rejects.toThrow(
      "BlazeRpcModule option 'port' is invalid: got 70000, expected a port from 0 to 65535 (0 picks a free one).",
    );
    await expect(
      Test.createTestingModule({ imports: [BlazeRpcModule.forRoot({ batching: { maxBatchSize: 0 } })] }).compile(),
    ).rejects.toThrow("BlazeRpcModule option 'batching.maxBatchSize' is invalid: got 0, expected a positive integer.");
  });

  it('Ctx is not a request field', async () => {
    @Injectable()
    class Fine {
      @Model('who')
      run(@Ctx() ctx: BlazeContext, @Input('x') x: string): string {
        return ctx.peer + x;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot({ protoFile: false })],
      providers: [Fine],
    }).compile();
    await moduleRef.init();
    const { ModelRegistry } = await import('../../lib/index.js');
    expect(
      moduleRef
        .get(ModelRegistry)
        .get('who')
        .inputs.map((i) => [i.name, i.number]),
    ).toEqual([['x', 1]]);
    await moduleRef.close();
  });
});
