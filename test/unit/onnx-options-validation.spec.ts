import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from '../../lib/core/errors/configuration.error.js';
import { configurationFailure as failure } from '../helpers/configuration-failure.js';
import { writeRepository } from '../helpers/model-repository.js';
import {
  OnnxModel,
  OnnxModule,
  type OnnxModelOptions,
  type OnnxRepositoryOptions,
  type OnnxServeOptions,
} from '../../lib/runtimes/onnx/index.js';
import { checkRepositoryOptions, checkServeOptions } from '../../lib/runtimes/onnx/onnx-options.validator.js';
import { scanModel, scanRepository } from '../../lib/runtimes/onnx/onnx-repository.scanner.js';

/*
 * Every ONNX option surface (OnnxModule.serve/register/registerAsync/
 * repository, OnnxModel.load, and a repository model's config.json) refuses
 * an unknown key with its path and the closest known key, and a wrong type
 * with the type expected, before anything loads. Nothing here loads a
 * model: the model.onnx files are placeholders, and an accepted load stops
 * at the missing file.
 */

const dirs: string[] = [];

/** A repository in a temporary directory, removed after the tests: files by path under it. */
function repository(files: Record<string, string>): string {
  const dir = writeRepository(files, 'blazerpc-validation-');
  dirs.push(dir);
  return dir;
}

/** Options as a JavaScript caller (or a config service) may pass them, past the types. */
const loose = <T>(options: Record<string, unknown>) => options as T;

afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('OnnxModule.serve', () => {
  const serve = (options: Record<string, unknown>) =>
    failure(() => OnnxModule.serve('iris', 'models/iris.onnx', loose<OnnxServeOptions>(options)));

  it('refuses an unknown option, with the closest known one, at any depth', () => {
    expect(serve({ instanse: 2 })).toBe(
      "OnnxModule.serve('iris'): option 'instanse' is unknown. Did you mean 'instances'? " +
        'Known: instances, instanceNiceness, executionProviders, sessionOptions, version, description, batching.',
    );
    expect(serve({ batching: { maxBatchSise: 8 } })).toBe(
      "OnnxModule.serve('iris'): option 'batching.maxBatchSise' is unknown. Did you mean 'maxBatchSize'? " +
        'Known: maxBatchSize, maxQueueSize, maxConcurrentBatches, batchTimeoutMs, tuneBatchSize.',
    );
    expect(serve({ colour: 'blue' })).toMatch(
      /^OnnxModule\.serve\('iris'\): option 'colour' is unknown\. Known: instances, /,
    );
  });

  it('refuses a wrong type naming the type expected, and shows a string of digits as a string', () => {
    expect(serve({ description: 12 })).toBe("OnnxModule.serve('iris'): 'description' must be a string, got number 12");
    expect(serve({ version: true })).toBe(
      "OnnxModule.serve('iris'): 'version' must be a string such as '2' (or a whole number), got boolean true",
    );
    expect(serve({ version: 2.5 })).toBe(
      "OnnxModule.serve('iris'): 'version' must be a string such as '2' (or a whole number), got number 2.5",
    );
    expect(serve({ version: 'v 2' })).toMatch(
      /^OnnxModule\.serve\('iris'\): 'version' must be letters, digits, '\.', '-' or '_' .*, got "v 2"$/,
    );
    expect(serve({ instances: '2' })).toMatch(
      /^OnnxModule\.serve\('iris'\): 'instances' must be a positive integer, got string "2"; allowed: 1 to 64 /,
    );
    expect(serve({ batching: true })).toBe(
      "OnnxModule.serve('iris'): 'batching' must be false or an object, got boolean true",
    );
    expect(serve({ executionProviders: 'cuda' })).toBe(
      "OnnxModule.serve('iris'): 'executionProviders' must be an array such as ['cpu'], got string \"cuda\"",
    );
    expect(serve({ sessionOptions: 4 })).toBe(
      "OnnxModule.serve('iris'): 'sessionOptions' must be an object of onnxruntime session options, got number 4",
    );
    expect(serve({ sessionOptions: { executionProviders: ['cuda'] } })).toBe(
      "OnnxModule.serve('iris'): option 'sessionOptions.executionProviders' is not read: give 'executionProviders' beside 'sessionOptions'.",
    );
    expect(failure(() => OnnxModule.serve('iris', 42 as unknown as string))).toBe(
      "OnnxModule.serve('iris'): 'source' must be an .onnx file's path or its bytes (a Uint8Array), got number 42",
    );
    expect(failure(() => OnnxModule.serve('iris', 'x.onnx', 'fast' as OnnxServeOptions))).toBe(
      'OnnxModule.serve(\'iris\'): options must be an object, got string "fast"',
    );
  });

  it('accepts valid options; onnxruntime keys of sessionOptions are onnxruntime’s to check; a whole-number version is its digits', () => {
    const options: OnnxServeOptions = {
      instances: 2,
      instanceNiceness: 5,
      executionProviders: ['cpu'],
      sessionOptions: { graphOptimizationLevel: 'all', intraOpNumThreads: 1 },
      version: '3',
      description: 'Iris species',
      batching: { maxBatchSize: 16, tuneBatchSize: false },
    };
    expect(() => OnnxModule.serve('iris', 'models/iris.onnx', options)).not.toThrow();
    expect(() => OnnxModule.serve('iris', new Uint8Array(4), { batching: false })).not.toThrow();
    expect(checkServeOptions('iris', 'models/iris.onnx', { version: 2 as unknown as string }).version).toBe('2');
  });
});

describe('OnnxModule.register', () => {
  const register = (registration: Record<string, unknown>) => failure(() => OnnxModule.register(loose(registration)));

  it('refuses an unknown option with the closest known one', () => {
    expect(register({ name: 'iris', source: 'x.onnx', sessionOption: {} })).toBe(
      "OnnxModule.register('iris'): option 'sessionOption' is unknown. Did you mean 'sessionOptions'? " +
        'Known: name, source, instances, instanceNiceness, executionProviders, sessionOptions.',
    );
  });

  it('refuses a wrong type naming the type expected', () => {
    expect(register({ name: 'iris', source: 'x.onnx', instanceNiceness: '5' })).toBe(
      "OnnxModule.register('iris'): 'instanceNiceness' must be a whole number, got string \"5\"; allowed: 0 to 19 (Linux niceness)",
    );
    expect(register({ name: 'iris' })).toBe(
      "OnnxModule.register('iris'): 'source' must be an .onnx file's path or its bytes (a Uint8Array), got undefined",
    );
    expect(register({ name: 7, source: 'x.onnx' })).toBe(
      "OnnxModule.register(): 'name' must be the model's name, a non-empty string, got number 7",
    );
    expect(failure(() => OnnxModule.register('iris' as never))).toMatch(
      /^OnnxModule\.register\(\): each registration must be an object .*, got string "iris"$/,
    );
  });

  it('accepts a valid registration', () => {
    expect(() =>
      OnnxModule.register({ name: 'iris', source: 'x.onnx', instances: 2, sessionOptions: { interOpNumThreads: 0 } }),
    ).not.toThrow();
  });
});

describe('OnnxModule.registerAsync', () => {
  /** What compiling a module with the registration fails with, as Nest's startup does. */
  const startup = async (factoryResult: unknown) => {
    const imports = [
      OnnxModule.registerAsync({
        name: 'iris',
        useFactory: () => factoryResult as OnnxModelOptions & { source: string },
      }),
    ];
    const error = await Test.createTestingModule({ imports })
      .compile()
      .then(
        () => undefined,
        (thrown: Error) => thrown,
      );
    expect(error).toBeInstanceOf(ConfigurationError);
    return error!.message;
  };

  beforeEach(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('refuses an unknown key of the registration, and of what its factory returns, with the closest known one', async () => {
    expect(
      failure(() =>
        OnnxModule.registerAsync(
          loose({ name: 'iris', useFactory: () => ({ source: 'x.onnx' }), injects: ['CONFIG'] }),
        ),
      ),
    ).toBe(
      "OnnxModule.registerAsync('iris'): option 'injects' is unknown. Did you mean 'inject'? Known: name, imports, inject, useFactory.",
    );
    await expect(startup({ source: 'x.onnx', instanses: 2 })).resolves.toBe(
      "OnnxModule.registerAsync('iris') factory result: option 'instanses' is unknown. Did you mean 'instances'? " +
        'Known: source, instances, instanceNiceness, executionProviders, sessionOptions.',
    );
    await expect(startup({ source: 'x.onnx', name: 'other' })).resolves.toBe(
      "OnnxModule.registerAsync('iris') factory result: option 'name' cannot come from the factory: give it to registerAsync({ name, useFactory }) beside the factory.",
    );
  });

  it('refuses a wrong type naming the type expected', async () => {
    expect(failure(() => OnnxModule.registerAsync(loose({ name: 'iris', useFactory: { source: 'x.onnx' } })))).toBe(
      'OnnxModule.registerAsync(\'iris\'): \'useFactory\' must be a function returning { source, ...options }, got object {"source":"x.onnx"}',
    );
    await expect(startup({ source: 'x.onnx', instances: '4' })).resolves.toMatch(
      /^OnnxModule\.registerAsync\('iris'\) factory result: 'instances' must be a positive integer, got string "4"; allowed: 1 to 64 /,
    );
    await expect(startup(undefined)).resolves.toBe(
      "OnnxModule.registerAsync('iris') factory result: options must be an object, got undefined",
    );
  });

  it('accepts a valid registration: the load goes ahead (and here finds no file)', async () => {
    await expect(startup({ source: 'no/such/iris.onnx', instances: 2 })).resolves.toMatch(
      /^Cannot load ONNX model 'no\/such\/iris\.onnx': the file does not exist/,
    );
  });
});

describe('OnnxModule.repository', () => {
  const dir = () => repository({ 'iris/1/model.onnx': 'placeholder', 'iris/2/model.onnx': 'placeholder' });
  const refused = (options: Record<string, unknown>) => {
    const at = dir();
    return failure(() => OnnxModule.repository(at, loose<OnnxRepositoryOptions>(options))).replace(at, '<dir>');
  };

  it('refuses an unknown option with the closest known one, versionPolicy keys included', () => {
    expect(refused({ pollInterval: 5000 })).toBe(
      "OnnxModule.repository('<dir>'): option 'pollInterval' is unknown. Did you mean 'pollIntervalMs'? " +
        'Known: instances, instanceNiceness, executionProviders, sessionOptions, versionPolicy, batching, pollIntervalMs, control.',
    );
    expect(refused({ versionPolicy: { lastest: 2 } })).toBe(
      "OnnxModule.repository('<dir>'): option 'versionPolicy.lastest' is unknown. Did you mean 'latest'? Known: latest, specific.",
    );
  });

  it('refuses a wrong type naming the type expected', () => {
    expect(refused({ control: 'yes' })).toBe(
      "OnnxModule.repository('<dir>'): 'control' must be true or false, got string \"yes\"",
    );
    expect(refused({ pollIntervalMs: '5000' })).toMatch(
      /^OnnxModule\.repository\('<dir>'\): 'pollIntervalMs' must be a whole number of milliseconds, got string "5000"; /,
    );
    expect(refused({ versionPolicy: { latest: '2' } })).toBe(
      "OnnxModule.repository('<dir>'): 'versionPolicy.latest' must be a positive integer, got string \"2\"",
    );
    expect(refused({ versionPolicy: { specific: [true] } })).toBe(
      "OnnxModule.repository('<dir>'): 'versionPolicy.specific[0]' must be a version such as \"2\" (a string, or a whole number from 1), got boolean true",
    );
    expect(refused({ versionPolicy: { latest: 1, specific: ['1'] } })).toMatch(
      /'versionPolicy' must hold one of 'latest' or 'specific' /,
    );
    expect(failure(() => OnnxModule.repository(3 as unknown as string))).toBe(
      'OnnxModule.repository(): the directory must be a path, got number 3',
    );
  });

  it('accepts valid options; versions given as whole numbers are their digits', () => {
    const at = dir();
    expect(() =>
      OnnxModule.repository(at, {
        instances: 2,
        versionPolicy: 'all',
        pollIntervalMs: 0,
        control: false,
        batching: false,
      }),
    ).not.toThrow();
    const numbers = loose<OnnxRepositoryOptions>({ versionPolicy: { specific: [1, 2] } });
    expect(() => OnnxModule.repository(at, numbers)).not.toThrow();
    expect(checkRepositoryOptions(at, numbers).versionPolicy).toEqual({ specific: ['1', '2'] });
  });
});

describe('OnnxModel.load', () => {
  it('refuses an unknown option with the closest known one, and a wrong type naming the type, before any thread starts', async () => {
    await expect(OnnxModel.load('no/such/iris.onnx', loose({ instanses: 2 }))).rejects.toThrow(
      "ONNX model 'no/such/iris.onnx': option 'instanses' is unknown. Did you mean 'instances'? Known: instances, instanceNiceness, executionProviders, sessionOptions.",
    );
    await expect(OnnxModel.load('no/such/iris.onnx', loose({ sessionOptions: 'fast' }))).rejects.toThrow(
      "ONNX model 'no/such/iris.onnx': 'sessionOptions' must be an object of onnxruntime session options, got string \"fast\"",
    );
    await expect(OnnxModel.load(7 as unknown as string)).rejects.toThrow(
      "ONNX model (no source): 'source' must be an .onnx file's path or its bytes (a Uint8Array), got number 7",
    );
  });

  it('accepts valid options: the load goes ahead (and here finds no file)', async () => {
    await expect(
      OnnxModel.load('no/such/iris.onnx', { instances: 1, sessionOptions: { logSeverityLevel: 3 } }),
    ).rejects.toThrow("Cannot load ONNX model 'no/such/iris.onnx': the file does not exist");
  });
});

describe("a repository model's config.json", () => {
  const withConfig = (config: unknown) => {
    const dir = repository({
      'iris/1/model.onnx': 'placeholder',
      'iris/2/model.onnx': 'placeholder',
      'iris/config.json': JSON.stringify(config),
    });
    return { dir, file: join(dir, 'iris', 'config.json') };
  };
  const refused = (config: unknown) => {
    const { dir, file } = withConfig(config);
    return failure(() => OnnxModule.repository(dir)).replace(file, '<file>');
  };

  it('refuses an unknown key with the file, the key path and the closest known key', () => {
    expect(refused({ instanse: 2 })).toBe(
      "Model repository: <file> key 'instanse' is unknown. Did you mean 'instances'? Known: instances, batching, versionPolicy, defaultVersion, description.",
    );
    expect(refused({ batching: { maxQueueSise: 8 } })).toBe(
      "Model repository: <file> key 'batching.maxQueueSise' is unknown. Did you mean 'maxQueueSize'? " +
        'Known: maxBatchSize, maxQueueSize, maxConcurrentBatches, batchTimeoutMs, tuneBatchSize.',
    );
    expect(refused({ versionPolicy: { lastest: 2 } })).toBe(
      "Model repository: <file> key 'versionPolicy.lastest' is unknown. Did you mean 'latest'? Known: latest, specific.",
    );
  });

  it('refuses a wrong type naming the type expected', () => {
    expect(refused({ description: 12 })).toBe("Model repository: <file> 'description' must be a string, got number 12");
    expect(refused({ instances: '2' })).toMatch(
      /^Model repository: <file> 'instances' must be a positive integer, got string "2"; allowed: 1 to 64 /,
    );
    expect(refused({ defaultVersion: true })).toBe(
      'Model repository: <file> \'defaultVersion\' must be a version such as "2" (a string, or a whole number from 1), got boolean true',
    );
    expect(refused({ versionPolicy: 'newest' })).toBe(
      'Model repository: <file> \'versionPolicy\' must be { "latest": N }, "all" or { "specific": ["1", ...] }, got "newest"',
    );
    expect(refused({ versionPolicy: { specific: '2' } })).toBe(
      'Model repository: <file> \'versionPolicy.specific\' must be a list of versions such as ["1", "3"], got string "2"',
    );
    expect(refused([{ instances: 2 }])).toBe(
      'Model repository: <file> must hold a JSON object, got array [{"instances":2}]',
    );
  });

  it('refuses a version number JSON has already rounded, rather than serve another version', () => {
    const dir = repository({
      'iris/1/model.onnx': 'placeholder',
      'iris/config.json': '{"defaultVersion": 9007199254740993}',
    });
    expect(failure(() => OnnxModule.repository(dir))).toBe(
      `Model repository: ${join(dir, 'iris', 'config.json')} 'defaultVersion' must be a string of digits when above 9007199254740991: ` +
        'a JSON number that large loses digits (this one reads as 9007199254740992)',
    );
  });

  it('accepts a valid config.json; versions given as whole numbers are their digits', () => {
    const { dir } = withConfig({
      instances: 2,
      batching: { maxBatchSize: 8 },
      versionPolicy: { specific: [1, 2] },
      defaultVersion: 1,
      description: 'Iris species',
    });
    expect(() => OnnxModule.repository(dir)).not.toThrow();
    expect(scanRepository(dir).map((entry) => `${entry.version}${entry.isDefault ? ' (default)' : ''}`)).toEqual([
      '1 (default)',
      '2',
    ]);
  });

  it('on a live repository, a bad setting is each version’s problem (reported, what serves keeps serving), not a crash', () => {
    const { dir, file } = withConfig({ instanse: 2 });
    const entries = scanModel(join(dir, 'iris'), 'iris', {});
    expect(entries.map((entry) => entry.problem)).toEqual([
      `Model repository: ${file} key 'instanse' is unknown. Did you mean 'instances'? Known: instances, batching, versionPolicy, defaultVersion, description.`,
    ]);
  });
});
