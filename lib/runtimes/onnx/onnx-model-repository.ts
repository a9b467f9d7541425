import {
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { join, resolve, sep } from 'node:path';
import { CallStatusError } from '../../core/errors/call-status.error.js';
import { quoteClientText } from '../../core/errors/client-text.js';
import type { BlazeHealthService } from '../../core/health/blaze-health.service.js';
import { versionHealthName } from '../../core/health/health-names.js';
import type { BlazeMetrics } from '../../observability/blaze-metrics.js';
import type { LiveModels } from '../../server/live-models.service.js';
import type { ModelRepositoryControl, RepositoryModelState } from '../../core/registry/model-repository.interface.js';
import { modelIdString, parseModelId, type ModelId } from '../../core/registry/model-id.js';
import { Tensor } from '../../core/tensor/tensor.js';
import { createOnnxEndpoint } from './onnx-endpoint.factory.js';
import { OnnxModel } from './onnx-model.js';
import type { OnnxRepositoryOptions } from './onnx-repository.options.js';
import { modelDirectories, scanModel, type IgnoredVersion, type RepositoryEntry } from './onnx-repository.scanner.js';

/** @internal A version being served: its repository entry and its loaded model. */
export interface ServedVersion {
  readonly entry: RepositoryEntry;
  readonly model: OnnxModel;
}

/** What a pass over one model decided. */
interface ModelPlan {
  readonly add: ServedVersion[];
  readonly remove: ServedVersion[];
  /** Loaded in this pass: released at once if the change cannot be applied. */
  readonly fresh: ServedVersion[];
}

/** A repository entry's model version (entries name their model `model`). */
const idOf = (entry: RepositoryEntry): ModelId => ({ name: entry.model, version: entry.version });
/** Versions are kept by `modelIdString()`: `iris@2`. */
const key = (entry: RepositoryEntry) => modelIdString(idOf(entry));

/**
 * The live model repository behind `OnnxModule.repository(dir, { pollIntervalMs })`:
 * it reads the directory again on each poll (or when OIP's
 * `RepositoryModelLoad` asks), loads new versions and new files, warms each
 * up with one inference, and only then swaps them in, in one change per
 * model; old versions finish their calls before their sessions close. A
 * version that fails to load, or whose `config.json` settings are out of
 * bounds, is reported once (health `model@version` NOT_SERVING, OIP
 * `RepositoryIndex` UNAVAILABLE with the reason) and leaves the model as it
 * was. A directory named as a version that is not one (`007`, a number above
 * int64) is reported once, as UNAVAILABLE with the reason, and ignored.
 *
 * NOTE: a replaced version's `OnnxModel` is closed once its calls end, the
 * one `@InjectOnnxModel()` gave at startup included: ask `model()` for the
 * one serving now, at each use.
 */
export class OnnxModelRepository
  implements ModelRepositoryControl, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('BlazeRpcOnnx');
  private readonly served = new Map<string, ServedVersion>();
  /** Versions that cannot be served with their current file and settings: why, and whether the settings (not the file) are at fault. */
  private readonly failed = new Map<string, { stamp: string; reason: string; settings: boolean }>();
  /** Directories named as versions that are not, by `model@directory`: reported once each while they stay. */
  private readonly ignored = new Map<string, string>();
  private readonly loading = new Set<string>();
  /** Models a client unloaded: kept unloaded until loaded again. */
  private readonly unloaded = new Set<string>();
  /** The last problem reported per model directory, so a poll does not repeat it. */
  private readonly reported = new Map<string, string>();
  private pass: Promise<unknown> = Promise.resolve();
  /** Replaced versions waiting for their last calls before their sessions close. */
  private readonly releasing = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  /** @internal Made by `OnnxModule.repository()`. */
  constructor(
    private readonly dir: string,
    private readonly options: OnnxRepositoryOptions,
    initial: readonly ServedVersion[],
    private readonly live?: LiveModels,
    private readonly health?: BlazeHealthService,
    private readonly metrics?: BlazeMetrics,
    /** Reported when the repository was first read, at startup: not reported again. */
    ignored: readonly IgnoredVersion[] = [],
  ) {
    for (const version of initial) this.served.set(key(version.entry), version);
    for (const { path, reason } of ignored) this.ignored.set(path, reason);
  }

  get controllable(): boolean {
    return this.options.control === true;
  }

  has(model: string): boolean {
    return this.inRepository(model) || [...this.served.values()].some((v) => v.entry.model === model);
  }

  /**
   * The model serving `name`'s default version now, or `version`'s. Unlike
   * `@InjectOnnxModel()`, which gives what was loaded at startup, this follows rollouts.
   */
  model(name: string, version?: string): OnnxModel | undefined {
    const versions = [...this.served.values()].filter((v) => v.entry.model === name);
    return (
      version === undefined
        ? versions.find((v) => v.entry.isDefault)
        : versions.find((v) => v.entry.version === version)
    )?.model;
  }

  onApplicationBootstrap(): void {
    if (!this.live) {
      // Without BlazeRpcModule in reach nothing could be swapped in, and unloading would close models still served.
      if (this.options.pollIntervalMs || this.options.control) {
        this.logger.warn(
          `OnnxModule.repository('${this.dir}'): BlazeRpcModule is not visible to OnnxModule, so the repository is not watched. ` +
            'Import BlazeRpcModule.forRoot() with isGlobal left at true.',
        );
      }
      return;
    }
    this.live.attachRepository(this);
    if (this.options.pollIntervalMs) this.schedule();
  }

  /** Stops polling before the server drains, so no change lands while it does. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.beforeApplicationShutdown();
    await Promise.all(this.releasing);
    await Promise.all([...this.served.values()].map((v) => v.model.dispose()));
  }

  /**
   * Served versions READY (with the reason when a newer file or settings for
   * one could not be served), others LOADING or UNAVAILABLE with the reason,
   * directories that are not versions included.
   */
  index(): RepositoryModelState[] {
    const states: RepositoryModelState[] = [...this.served].map(([id, { entry }]) => ({
      name: entry.model,
      version: entry.version,
      state: 'READY',
      reason: this.servedReason(id, entry.model),
    }));
    for (const loading of this.loading)
      if (!this.served.has(loading)) states.push({ ...parseModelId(loading), state: 'LOADING', reason: '' });
    for (const [failed, { reason }] of this.failed)
      if (!this.served.has(failed)) states.push({ ...parseModelId(failed), state: 'UNAVAILABLE', reason });
    for (const [path, reason] of this.ignored) {
      const at = path.lastIndexOf('/');
      states.push({
        name: path.slice(0, at),
        version: path.slice(at + 1),
        state: 'UNAVAILABLE',
        reason: `ignored: ${reason}`,
      });
    }
    return states;
  }

  /** Why a served version is not what the repository holds now: a newer file or settings failed, or the model directory cannot be read. */
  private servedReason(id: string, model: string): string {
    const failed = this.failed.get(id);
    if (failed?.settings) return `serving the previous settings; the new ones are refused: ${failed.reason}`;
    if (failed) return `serving the previous file; the new one failed to load: ${failed.reason}`;
    const problem = this.reported.get(model);
    return problem ? this.clientText(problem).slice(0, 500) : '';
  }

  async load(model: string): Promise<void> {
    if (!this.inRepository(model)) throw notInRepository(model);
    this.unloaded.delete(model);
    await this.sync(model);
    const broken = [...this.failed].find(([failed]) => parseModelId(failed).name === model);
    if (broken)
      throw new CallStatusError(
        GrpcStatus.FAILED_PRECONDITION,
        `Model '${model}' version ${parseModelId(broken[0]).version} failed to load: ${broken[1].reason}`,
      );
    const problem = this.reported.get(model);
    if (problem) throw new CallStatusError(GrpcStatus.FAILED_PRECONDITION, this.clientText(problem));
  }

  async unload(model: string): Promise<void> {
    const known = [...this.served.values()].some((v) => v.entry.model === model) || this.inRepository(model);
    if (!known) throw notInRepository(model);
    this.unloaded.add(model);
    await this.sync(model);
  }

  /** Whether `model` names a model directory of the repository (a client's name: never a path). */
  private inRepository(model: string): boolean {
    try {
      return modelDirectories(this.dir).includes(model);
    } catch {
      return false;
    }
  }

  /** Reads the repository again and applies what changed (one model, or all); passes never overlap. */
  sync(only?: string): Promise<void> {
    const pass = this.pass.then(() => this.syncNow(only));
    this.pass = pass.catch(() => undefined);
    return pass;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sync()
        .catch((error: Error) => this.logger.error(`Model repository poll failed: ${error.message}`, error.stack))
        .finally(() => this.schedule());
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  private async syncNow(only?: string): Promise<void> {
    if (this.stopped) return;
    let present: string[];
    try {
      present = modelDirectories(this.dir);
    } catch (error) {
      this.report(
        this.dir,
        `Model repository ${this.dir} cannot be read, so nothing changes: ${(error as Error).message}`,
      );
      return;
    }
    const known = [...this.served.values()].map((v) => v.entry.model);
    const troubled = [...this.failed.keys()]
      .map((id) => parseModelId(id).name)
      .concat([...this.reported.keys()].filter((subject) => subject !== this.dir));
    const names = only ? [only] : [...new Set([...present, ...known, ...troubled])];
    for (const name of names) {
      if (!present.includes(name)) this.forgetIgnored(name, []);
      const wanted = this.unloaded.has(name) || !present.includes(name) ? [] : this.scan(name);
      if (!wanted) continue;
      if (wanted.length === 0) this.reported.delete(name);
      const plan = await this.plan(name, wanted);
      if (plan.add.length > 0 || plan.remove.length > 0) await this.apply(name, plan);
    }
  }

  /** The versions a model directory asks for, or `undefined` (reported, nothing changes) when it is laid out wrongly. */
  private scan(name: string): RepositoryEntry[] | undefined {
    const ignored: IgnoredVersion[] = [];
    try {
      const entries = scanModel(join(this.dir, name), name, this.options, (version) => ignored.push(version));
      this.reported.delete(name);
      return entries;
    } catch (error) {
      this.report(name, `${(error as Error).message}; model '${name}' keeps serving what it served`);
      return undefined;
    } finally {
      for (const { path, reason } of ignored) {
        if (this.ignored.get(path) === reason) continue;
        this.ignored.set(path, reason);
        this.logger.warn(`Model repository: ignoring '${path}': ${reason}`);
      }
      this.forgetIgnored(name, ignored);
    }
  }

  /** Forgets a model's ignored directories that are gone, so one that comes back is reported again. */
  private forgetIgnored(name: string, still: readonly IgnoredVersion[]): void {
    const kept = new Set(still.map((version) => version.path));
    for (const path of this.ignored.keys())
      if (path.startsWith(`${name}/`) && !kept.has(path)) this.ignored.delete(path);
  }

  /** Loads what a model needs; if any version fails, the model is left as it is. */
  private async plan(name: string, wanted: RepositoryEntry[]): Promise<ModelPlan> {
    const current = [...this.served.values()].filter((v) => v.entry.model === name);
    const add: ServedVersion[] = [];
    const fresh: ServedVersion[] = [];
    let complete = true;
    for (const entry of wanted) {
      const serving = this.served.get(key(entry));
      if (serving?.entry.stamp === entry.stamp) {
        // Back to what serves (e.g. settings set right again): nothing failed any more.
        this.failed.delete(key(entry));
        // Same file: re-registered only if it became (or stopped being) the default.
        if (serving.entry.isDefault !== entry.isDefault) add.push({ entry, model: serving.model });
        continue;
      }
      const model = this.claimedElsewhere(entry) ? undefined : await this.loadVersion(entry);
      if (model) {
        add.push({ entry, model });
        fresh.push({ entry, model });
      } else {
        complete = false;
      }
    }
    const wantedVersions = new Set(wanted.map((e) => e.version));
    for (const failed of [...this.failed.keys()].filter(
      (k) => parseModelId(k).name === name && !wantedVersions.has(parseModelId(k).version),
    )) {
      this.failed.delete(failed);
      const id = parseModelId(failed);
      if (!this.live?.handlerOf(id.name, id.version)) this.health?.forget(versionHealthName(id));
    }
    if (!complete) {
      await Promise.all(fresh.map((v) => v.model.dispose()));
      return { add: [], remove: [], fresh: [] };
    }
    const replaced = new Set(add.map((v) => v.entry.version));
    const remove = current.filter((v) => !wantedVersions.has(v.entry.version) || replaced.has(v.entry.version));
    return { add, remove, fresh };
  }

  /** Loads and warms up one version; `undefined` (reported) when it fails, or failed before with this same file. */
  private async loadVersion(entry: RepositoryEntry): Promise<OnnxModel | undefined> {
    const id = key(entry);
    if (this.failed.get(id)?.stamp === entry.stamp) return undefined;
    if (entry.problem) {
      // Refused before a thread starts: out-of-bounds settings (e.g. 10,000 instances) are never tried.
      this.fail(entry, entry.problem, true);
      return undefined;
    }
    const health = versionHealthName(idOf(entry));
    if (!this.served.has(id) && !this.live?.handlerOf(entry.model, entry.version))
      this.health?.setStatus(health, 'NOT_SERVING');
    this.loading.add(id);
    const started = Date.now();
    let model: OnnxModel | undefined;
    try {
      model = await OnnxModel.load(entry.file, {
        ...this.modelOptions(),
        instances: entry.config.instances ?? this.options.instances,
      });
      await warmUp(model);
      this.failed.delete(id);
      this.logger.log(
        `Loaded model '${entry.model}' version ${entry.version} in ${Date.now() - started} ms, warmed up; swapping it in`,
      );
      return model;
    } catch (error) {
      await model?.dispose();
      this.fail(entry, (error as Error).message);
      return undefined;
    } finally {
      this.loading.delete(id);
    }
  }

  /**
   * Serves a model's `add` and stops serving its `remove` in one change.
   * Old sessions close once their last calls end, in the background, so a
   * long stream on an old version holds up nothing else.
   */
  private async apply(name: string, { add, remove, fresh }: ModelPlan): Promise<void> {
    const removed = remove.map(({ entry }) => idOf(entry));
    let retired = Promise.resolve();
    try {
      const endpoints = add.map(({ entry, model }) =>
        createOnnxEndpoint(
          entry.model,
          model,
          {
            version: entry.version,
            default: entry.isDefault,
            description: entry.config.description,
            batching: entry.config.batching ?? this.options.batching,
          },
          this.metrics,
        ),
      );
      if (this.live) ({ retired } = await this.live.swap(endpoints, removed));
    } catch (error) {
      if (this.live?.isClosing) {
        // The app is shutting down: nothing to report, just release what this pass loaded.
        await Promise.all(fresh.map((v) => v.model.dispose()));
        return;
      }
      // Not retried with the same files: the same change would fail the same way.
      for (const { entry } of fresh)
        this.fail(entry, `model '${name}' could not be swapped in: ${(error as Error).message}`);
      await Promise.all(fresh.map((v) => v.model.dispose()));
      return;
    }
    for (const version of remove) this.served.delete(key(version.entry));
    for (const version of add) {
      this.served.set(key(version.entry), version);
      this.health?.setStatus(versionHealthName(idOf(version.entry)), 'SERVING');
    }
    const inUse = new Set([...this.served.values()].map((v) => v.model));
    const release = retired
      .then(() => Promise.all(remove.filter((v) => !inUse.has(v.model)).map((v) => v.model.dispose())))
      .then(() => undefined)
      .catch((error: Error) =>
        this.logger.error(`Closing a replaced version of model '${name}' failed: ${error.message}`),
      )
      .finally(() => this.releasing.delete(release));
    this.releasing.add(release);
    const change = [...add.map((v) => `+${key(v.entry)}`), ...remove.map((v) => `-${key(v.entry)}`)];
    this.logger.log(`Model repository: ${change.join(' ')}`);
  }

  /**
   * True (and reported once per file) when the app already serves this
   * model version from elsewhere, e.g. a `@Model()` in code: it is not loaded,
   * and the other keeps serving.
   */
  private claimedElsewhere(entry: RepositoryEntry): boolean {
    const id = key(entry);
    const owner = this.served.has(id) ? undefined : this.live?.handlerOf(entry.model, entry.version);
    if (!owner) return false;
    if (this.failed.get(id)?.stamp !== entry.stamp)
      this.fail(entry, `model '${entry.model}' version ${entry.version} is already served by ${owner}`);
    return true;
  }

  /**
   * Records a version that cannot be served with this file (or, with
   * `settings`, these settings): reported in health and `index()`, logged
   * once, not retried until the file or the settings change.
   */
  private fail(entry: RepositoryEntry, message: string, settings = false): void {
    const id = key(entry);
    const reason = this.clientText(message).slice(0, 500);
    this.failed.set(id, { stamp: entry.stamp, reason, settings });
    // The health entry is the served version's, unless nothing serves it: then it says this one is not serving.
    if (!this.served.has(id) && !this.live?.handlerOf(entry.model, entry.version)) {
      this.health?.setStatus(versionHealthName(idOf(entry)), 'NOT_SERVING');
    }
    this.logger.error(
      `Model '${entry.model}' version ${entry.version} cannot be served, so the model keeps serving what it served: ${reason}`,
    );
  }

  /** Text clients read (OIP RepositoryIndex, load errors): paths relative to the repository, never the server's directories. */
  private clientText(message: string): string {
    const prefixes = [resolve(this.dir), this.dir, process.cwd()].map((dir) => `${dir}${sep}`);
    return prefixes
      .reduce((text, prefix) => text.split(prefix).join(''), message)
      .replace(` (resolved from ${process.cwd()})`, '')
      .split(resolve(this.dir))
      .join('<repository>');
  }

  private modelOptions() {
    const {
      versionPolicy: _policy,
      batching: _batching,
      pollIntervalMs: _poll,
      control: _control,
      ...options
    } = this.options;
    return options;
  }

  private report(subject: string, problem: string): void {
    if (this.reported.get(subject) === problem) return;
    this.reported.set(subject, problem);
    this.logger.error(problem);
  }
}

/** One inference on zeros (dynamic dimensions as 1), so the first real call pays no first-run cost and a model that cannot run is caught before it serves. */
async function warmUp(model: OnnxModel): Promise<void> {
  const feeds: Record<string, Tensor> = {};
  for (const input of model.inputs) {
    const shape = input.shape.map((dim) => (typeof dim === 'number' && dim > 0 ? dim : 1));
    const count = shape.reduce((a, b) => a * b, 1);
    feeds[input.name] = Tensor.from(input.dtype!, shape, new Array<number>(count).fill(0));
  }
  try {
    await model.run(feeds, true);
  } catch (error) {
    throw new Error(`warm-up inference failed: ${(error as Error).message}`, { cause: error });
  }
}

function notInRepository(model: string): CallStatusError {
  return new CallStatusError(GrpcStatus.NOT_FOUND, `No model '${quoteClientText(model)}' in the repository`);
}
