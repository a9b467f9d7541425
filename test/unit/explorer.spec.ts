import { Controller, Injectable, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BlazeRpcModule, Ctx, BlazeContext, Depends, Float32, Input, Model, ModelRegistry } from '../../lib/index.js';

@Injectable()
class SingletonModels {
  @Model('plain')
  plain(@Input('text') text: string): string {
    return text;
  }

  @Model('scores', { returns: [Float32] })
  scores(@Input('texts', [String]) texts: string[]): number[] {
    return texts.map((t) => t.length);
  }

  @Model('contextual', { returns: [String] })
  contextual(@Ctx() ctx: BlazeContext, @Input('texts', [String]) texts: string[]): string[] {
    return texts.map(() => ctx.peer);
  }

  @Model('dependent', { returns: [String] })
  dependent(@Input('texts', [String]) texts: string[], @Depends(() => 'x') x: string): string[] {
    return texts.map(() => x);
  }

  @Model('opted-out', { returns: [Float32], batching: false })
  optedOut(@Input('texts', [String]) texts: string[]): number[] {
    return texts.map((t) => t.length);
  }

  notAModel(): string {
    return 'ignored';
  }
}

@Injectable({ scope: Scope.REQUEST })
class ScopedModels {
  @Model('scoped')
  scoped(@Input('n') n: number): number {
    return n;
  }

  @Model('scoped-list', { returns: [Float32] })
  scopedList(@Input('values', [Float32]) values: number[]): number[] {
    return values;
  }
}

@Controller()
class ControllerModels {
  @Model('from-controller')
  run(@Input('flag') flag: boolean): boolean {
    return flag;
  }
}

abstract class AliasToken {}

@Injectable()
class AliasedModels {
  @Model('aliased')
  run(@Input('blob') bytes: Buffer): Buffer {
    return bytes;
  }
}

describe('BlazeRpcExplorer', () => {
  let registry: ModelRegistry;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot({ protoFile: false })],
      providers: [SingletonModels, ScopedModels, { provide: AliasToken, useClass: AliasedModels }],
      controllers: [ControllerModels],
    }).compile();
    await moduleRef.init();
    registry = moduleRef.get(ModelRegistry);
  });

  it('finds @Model methods on providers (static, request-scoped, aliased) and controllers', () => {
    expect(registry.list().map((m) => m.name)).toEqual([
      'aliased',
      'contextual',
      'dependent',
      'from-controller',
      'opted-out',
      'plain',
      'scoped',
      'scoped-list',
      'scores',
    ]);
  });

  it('infers scalar types from the signature', () => {
    expect(registry.get('scoped').inputs[0].type).toEqual({ kind: 'scalar', protoType: 'double' });
    expect(registry.get('from-controller').outputs[0].type).toEqual({ kind: 'scalar', protoType: 'bool' });
    expect(registry.get('aliased').inputs[0].type).toEqual({ kind: 'scalar', protoType: 'bytes' });
    expect(registry.get('scores').inputs[0].type).toEqual({
      kind: 'list',
      element: { kind: 'scalar', protoType: 'string' },
    });
  });

  it('describes each model with its handler, rpc and message names', () => {
    expect(registry.get('from-controller')).toMatchObject({
      version: '1',
      isDefault: true,
      streaming: false,
      handler: 'ControllerModels.run',
      rpcMethods: ['PredictFromController'],
      requestType: 'FromControllerRequest',
      responseType: 'FromControllerResponse',
    });
  });

  it('batches list models with the module defaults, and says why others run unbatched', () => {
    expect(registry.get('scores').batching).toEqual({
      enabled: true,
      maxBatchSize: 32,
      batchTimeoutMs: 0,
      maxQueueSize: 1024,
      maxConcurrentBatches: 1,
      tuneBatchSize: true,
    });
    expect(registry.get('scores').unbatchedReason).toBeUndefined();
    expect(registry.get('plain').unbatchedReason).toContain('no batch axis');
    expect(registry.get('contextual').unbatchedReason).toContain('@Ctx()');
    expect(registry.get('dependent').unbatchedReason).toContain('@Depends()');
    expect(registry.get('scoped-list').unbatchedReason).toContain('request-scoped');
    expect(registry.get('opted-out').unbatchedReason).toContain('{ batching: false }');
    expect(registry.get('opted-out').batching).toBeUndefined();
  });

  it('throws ModelNotFoundError for an unknown model or version', () => {
    expect(() => registry.get('nope')).toThrow("Model 'nope' is not registered");
    expect(() => registry.get('plain', '9')).toThrow("Model 'plain' version '9' is not registered");
  });
});
