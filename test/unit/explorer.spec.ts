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

  @Model('contextual')
  contextual(@Ctx() ctx: BlazeContext): string {
    return ctx.peer;
  }

  @Model('dependent')
  dependent(@Depends(() => 'x') x: string): string {
    return x;
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
    expect(registry.list().map((m) => m.name)).toEqual(['aliased', 'contextual', 'dependent', 'from-controller', 'plain', 'scoped', 'scores']);
  });

  it('infers scalar types from the signature', () => {
    expect(registry.get('scoped').inputs[0].type).toEqual({ kind: 'scalar', protoType: 'double' });
    expect(registry.get('from-controller').outputs[0].type).toEqual({ kind: 'scalar', protoType: 'bool' });
    expect(registry.get('aliased').inputs[0].type).toEqual({ kind: 'scalar', protoType: 'bytes' });
    expect(registry.get('scores').inputs[0].type).toEqual({ kind: 'list', element: { kind: 'scalar', protoType: 'string' } });
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

  it('says why a model cannot be batched', () => {
    expect(registry.get('plain').unbatchedReason).toBeUndefined();
    expect(registry.get('contextual').unbatchedReason).toContain('@Ctx()');
    expect(registry.get('dependent').unbatchedReason).toContain('@Depends()');
    expect(registry.get('scoped').unbatchedReason).toContain('request-scoped');
  });

  it('throws ModelNotFoundError for an unknown model or version', () => {
    expect(() => registry.get('nope')).toThrow("Model 'nope' is not registered");
    expect(() => registry.get('plain', '9')).toThrow("Model 'plain' version '9' is not registered");
  });
});
