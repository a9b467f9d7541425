import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BlazeRpcModule, Input, Model, ModelRegistry, type BlazeRpcModuleOptions } from '../../lib/index.js';
import { RESOLVED_OPTIONS } from '../../lib/core/blaze-rpc.constants.js';
import type { ResolvedBlazeRpcOptions } from '../../lib/core/options/resolved-options.interface.js';

@Injectable()
class Settings {
  readonly protoPackage = 'acme.serving';
}

@Module({ providers: [Settings], exports: [Settings] })
class SettingsModule {}

@Injectable()
class OptionsFactory {
  create(): BlazeRpcModuleOptions {
    return { url: '127.0.0.1:6000', protoFile: false, batching: { maxBatchSize: 8 } };
  }
}

@Injectable()
class Echo {
  @Model('echo')
  echo(@Input('text') text: string): string {
    return text;
  }
}

async function resolvedWith(imports: any[]) {
  const moduleRef = await Test.createTestingModule({ imports, providers: [Echo] }).compile();
  await moduleRef.init();
  const resolved = moduleRef.get<ResolvedBlazeRpcOptions>(RESOLVED_OPTIONS);
  const registry = moduleRef.get(ModelRegistry);
  await moduleRef.close();
  return { resolved, registry };
}

describe('BlazeRpcModule options', () => {
  it('fills in documented defaults', async () => {
    const { resolved } = await resolvedWith([BlazeRpcModule.forRoot()]);
    expect(resolved).toMatchObject({
      host: '0.0.0.0',
      port: 50051,
      protoPackage: 'blazerpc',
      protoFile: false,
      health: true,
      reflection: true,
      protocols: { blazerpc: true, oip: true },
      gracePeriodMs: 5000,
      batching: { enabled: true, maxBatchSize: 32, batchTimeoutMs: 0, maxQueueSize: 1024, maxConcurrentBatches: 1 },
      limits: {
        maxPendingPerStream: 64,
        maxBufferedResults: 1024,
        maxInputs: 64,
        maxOutputs: 64,
        maxParameters: 64,
        maxParameterBytes: 65536,
        maxBytesElements: 65536,
      },
    });
    expect(resolved.channelOptions).toMatchObject({
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
      'grpc.max_concurrent_streams': 256,
      'grpc.max_connection_idle_ms': 900_000,
      'grpc.max_connection_age_ms': 1_800_000,
      'grpc.max_connection_age_grace_ms': 60_000,
    });
    expect(resolved.flowControlWindow).toBe(16 * 1024 * 1024);
  });

  it('0 turns the connection idle and age limits off', async () => {
    const { resolved } = await resolvedWith([
      BlazeRpcModule.forRoot({ protoFile: false, maxConnectionIdleMs: 0, maxConnectionAgeMs: 0 }),
    ]);
    expect(resolved.channelOptions).not.toHaveProperty('grpc.max_connection_idle_ms');
    expect(resolved.channelOptions).not.toHaveProperty('grpc.max_connection_age_ms');
  });

  it('forRootAsync with useFactory and inject', async () => {
    const { registry } = await resolvedWith([
      BlazeRpcModule.forRootAsync({
        imports: [SettingsModule],
        inject: [Settings],
        useFactory: (settings: Settings) => ({ protoPackage: settings.protoPackage, protoFile: false }),
      }),
    ]);
    expect(registry.serviceName).toBe('acme.serving.InferenceService');
  });

  it('forRootAsync with useClass; url wins over host and port', async () => {
    const { resolved } = await resolvedWith([BlazeRpcModule.forRootAsync({ useClass: OptionsFactory })]);
    expect(resolved).toMatchObject({ host: '127.0.0.1', port: 6000, batching: { maxBatchSize: 8, batchTimeoutMs: 0 } });
  });

  it.each([
    [{ url: 'nowhere' }, "option 'url' is invalid"],
    [{ protoPackage: '1bad' }, "option 'protoPackage' is invalid"],
    [{ gracePeriodMs: -1 }, "option 'gracePeriodMs' is invalid"],
    [{ maxReceiveMessageLength: 0 }, "option 'maxReceiveMessageLength' is invalid"],
    [{ batching: { batchTimeoutMs: -5 } }, "option 'batching.batchTimeoutMs' is invalid"],
    [{ maxConcurrentStreams: 0 }, "option 'maxConcurrentStreams' is invalid"],
    [{ maxConnectionAgeMs: -1 }, "option 'maxConnectionAgeMs' is invalid"],
    [{ flowControlWindow: 1024 }, "option 'flowControlWindow' is invalid: got 1024, expected a byte count from 65535"],
    [
      { batching: { maxQueueSize: 10_000_000 } },
      "option 'batching.maxQueueSize' is invalid: got 10000000, expected at most 65536",
    ],
    [
      { batching: { maxConcurrentBatches: 1000 } },
      "option 'batching.maxConcurrentBatches' is invalid: got 1000, expected at most 64",
    ],
    [
      { limits: { maxPendingPerStream: 0 } },
      "option 'limits.maxPendingPerStream' is invalid: got 0, expected a positive integer",
    ],
    [
      { limits: { maxParameters: 1.5 } },
      "option 'limits.maxParameters' is invalid: got 1.5, expected a positive integer",
    ],
    [
      { limits: { maxPending: 8 } },
      "option 'limits.maxPending' is unknown. Known: maxPendingPerStream, maxBufferedResults, maxRequestBytesInFlight, maxInputs",
    ],
    [{ prot: 50705 }, "BlazeRpcModule option 'prot' is unknown. Did you mean 'port'? Known: url, host, port,"],
    [{ limits: { maxInput: 8 } }, "option 'limits.maxInput' is unknown. Did you mean 'maxInputs'?"],
    [{ batching: { maxBatchsize: 8 } }, "option 'batching.maxBatchsize' is unknown. Did you mean 'maxBatchSize'?"],
    [{ keepalive: { timeMS: 8 } }, "option 'keepalive.timeMS' is unknown. Did you mean 'timeMs'?"],
  ])('refuses %j', async (options, message) => {
    await expect(resolvedWith([BlazeRpcModule.forRoot(options as BlazeRpcModuleOptions)])).rejects.toThrow(message);
  });

  it("refuses a module-level option returned by forRootAsync's factory, saying where it goes", async () => {
    const factory = () => ({ port: 0, metrics: true }) as BlazeRpcModuleOptions;
    await expect(resolvedWith([BlazeRpcModule.forRootAsync({ useFactory: factory })])).rejects.toThrow(
      "BlazeRpcModule option 'metrics' shapes the module itself, so it cannot come from a factory: pass it to forRootAsync({ metrics, useFactory, ... }) beside the factory.",
    );
  });
});
