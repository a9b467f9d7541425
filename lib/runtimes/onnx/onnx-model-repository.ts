import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { join, resolve, sep } from 'node:path';
import { CallStatusError } from '../../errors/call-status.error.js';
import { quoteClientText } from '../../errors/client-text.js';
import type { BlazeHealthService } from '../../health/blaze-health.service.js';
import { versionHealthName } from '../../health/health-names.js';
import type { BlazeMetrics } from '../../metrics/blaze-metrics.js';
import type { LiveModels } from '../../registry/live-models.service.js';
import type { ModelRepositoryControl, RepositoryModelState } from '../../registry/model-repository.interface.js';
import type { ModelKey } from '../../registry/model.registry.js';
import { Tensor } from '../../tensor/tensor.js';
import { createOnnxEndpoint } from './onnx-endpoint.factory.js';
import { OnnxModel } from './onnx-model.js';
import type { OnnxRepositoryOptions } from './onnx-repository.options.js';
import { modelDirectories, scanModel, type RepositoryEntry } from './onnx-repository.scanner.js';

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

const key = (model: string, version: string) => `${model}@${version}`;

/**
 * The live model repository behind `OnnxModule.repository(dir, { pollIntervalMs })`:
 * it reads the directory again on each poll (or when OIP's
 * `RepositoryModelLoad` asks), loads new versions and new files, warms each
 * up with one inference, and only then swaps them in, in one change per
 * model; old versions finish their calls before their sessions close. A
 * version that fails to load is reported (health `model@version`
 * NOT_SERVING, OIP `RepositoryIndex` UNAVAILABLE with the reason) and leaves
 * the model as it was.
 *
 * NOTE: a replaced version's `OnnxModel` is closed once its calls end, the
 * one `@InjectOnnxModel()` gave at startup included: ask `model()` for the
 * one serving now, at each use.
 */
export class OnnxModelRepository implements ModelRepositoryControl, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('BlazeRpcOnnx');
  private readonly served = new Map<string, ServedVersion>();
  private readonly failed = new Map<string, { stamp: string; reason: string }>();
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
  ) {
    for (const version of initial) this.served.set(key(version.entry.model, version.entry.version), version);
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
    return (version === undefined ? versions.find((v) => v.entry.isDefault) : versions.find((v) => v.entry.version === version))?.model;
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

  /** Served versions READY (with the reason when a newer file for one failed to load), others LOADING or UNAVAILABLE with the reason. */
  index(): RepositoryModelState[] {
    const states: RepositoryModelState[] = [...this.served].map(([id, { entry }]) => ({
      name: entry.model,
      version: entry.version,
      state: 'READY',
      reason: this.failed.has(id) ? `serving the previous file; the new one failed to load: ${this.failed.get(id)!.reason}` : '',
    }));
    for (const loading of this.loading) if (!this.served.has(loading)) states.push({ ...splitKey(loading), state: 'LOADING', reason: '' });
    for (const [failed, { reason }] of this.failed) if (!this.served.has(failed)) states.push({ ...splitKey(failed), state: 'UNAVAILABLE', reason });
    return states;
  }

  async load(model: string): Promise<void> {
    if (!this.inRepository(model)) throw notInRepository(model);
    this.unloaded.delete(model);
    await this.sync(model);
    const broken = [...this.failed].find(([failed]) => splitKey(failed).name === model);
    if (broken)
      throw new CallStatusError(GrpcStatus.FAILED_PRECONDITION, `Model '${model}' version ${splitKey(broken[0]).version} failed to load: ${broken[1].reason}`);
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
      this.report(this.dir, `Model repository ${this.dir} cannot be read, so nothing changes: ${(error as Error).message}`);
      return;
    }
    const known = [...this.served.values()].map((v) => v.entry.model);
    const troubled = [...this.failed.keys()].map((id) => splitKey(id).name).concat([...this.reported.keys()].filter((subject) => subject !== this.dir));
    const names = only ? [only] : [...new Set([...present, ...known, ...troubled])];
    for (const name of names) {
      const wanted = this.unloaded.has(name) || !present.includes(name) ? [] : this.scan(name);
      if (!wanted) continue;
      if (wanted.length === 0) this.reported.delete(name);
      const plan = await this.plan(name, wanted);
      if (plan.add.length > 0 || plan.remove.length > 0) await this.apply(name, plan);
    }
  }

  /** The versions a model directory asks for, or `undefined` (reported, nothing changes) when it is laid out wrongly. */
  private scan(name: string): RepositoryEntry[] | undefined {
    try {
      const entries = scanModel(join(this.dir, name), name, this.options);
      this.reported.delete(name);
      return entries;
    } catch (error) {
      this.report(name, `${(error as Error).message}; model '${name}' keeps serving what it served`);
      return undefined;
    }
  }

  /** Loads what a model needs; if any version fails, the model is left as it is. */
  private async plan(name: string, wanted: RepositoryEntry[]): Promise<ModelPlan> {
    const current = [...this.served.values()].filter((v) => v.entry.model === name);
    const add: ServedVersion[] = [];
    const fresh: ServedVersion[] = [];
    let complete = true;
    for (const entry of wanted) {
      const serving = this.served.get(key(name, entry.version));
      if (serving?.entry.stamp === entry.stamp) {
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
    for (const failed of [...this.failed.keys()].filter((k) => splitKey(k).name === name && !wantedVersions.has(splitKey(k).version))) {
      this.failed.delete(failed);
      const { version } = splitKey(failed);
      if (!this.live?.handlerOf(name, version)) this.health?.forget(versionHealthName(name, version));
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
    const id = key(entry.model, entry.version);
    if (this.failed.get(id)?.stamp === entry.stamp) return undefined;
    const health = versionHealthName(entry.model, entry.version);
    if (!this.served.has(id) && !this.live?.handlerOf(entry.model, entry.version)) this.health?.setStatus(health, 'NOT_SERVING');
    this.loading.add(id);
    const started = Date.now();
    let model: OnnxModel | undefined;
    try {
      model = await OnnxModel.load(entry.file, { ...this.modelOptions(), instances: entry.config.instances ?? this.options.instances });
      await warmUp(model);
      this.failed.delete(id);
      this.logger.log(`Loaded model '${entry.model}' version ${entry.version} in ${Date.now() - started} ms, warmed up; swapping it in`);
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
    const removed: ModelKey[] = remove.map(({ entry }) => ({ name: entry.model, version: entry.version }));
    let retired = Promise.resolve();
    try {
      const endpoints = add.map(({ entry, model }) =>
        createOnnxEndpoint(
          entry.model,
          model,
          { version: entry.version, default: entry.isDefault, description: entry.config.description, batching: entry.config.batching ?? this.options.batching },
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
      for (const { entry } of fresh) this.fail(entry, `model '${name}' could not be swapped in: ${(error as Error).message}`);
      await Promise.all(fresh.map((v) => v.model.dispose()));
      return;
    }
    for (const version of remove) this.served.delete(key(version.entry.model, version.entry.version));
    for (const version of add) {
      this.served.set(key(version.entry.model, version.entry.version), version);
      this.health?.setStatus(versionHealthName(version.entry.model, version.entry.version), 'SERVING');
    }
    const inUse = new Set([...this.served.values()].map((v) => v.model));
    const release = retired
      .then(() => Promise.all(remove.filter((v) => !inUse.has(v.model)).map((v) => v.model.dispose())))
      .then(() => undefined)
      .catch((error: Error) => this.logger.error(`Closing a replaced version of model '${name}' failed: ${error.message}`))
      .finally(() => this.releasing.delete(release));
    this.releasing.add(release);
    const change = [...add.map((v) => `+${v.entry.model}@${v.entry.version}`), ...remove.map((v) => `-${v.entry.model}@${v.entry.version}`)];
    this.logger.log(`Model repository: ${change.join(' ')}`);
  }

  /** Records a version that cannot be served with this file: reported in health and `index()`, not retried until the file changes. */
  /**
   * True (and reported once per file) when the app already serves this
   * model version from elsewhere, e.g. a `@Model()` in code: it is not loaded,
   * and the other keeps serving.
   */
  private claimedElsewhere(entry: RepositoryEntry): boolean {
    const id = key(entry.model, entry.version);
    const owner = this.served.has(id) ? undefined : this.live?.handlerOf(entry.model, entry.version);
    if (!owner) return false;
    if (this.failed.get(id)?.stamp !== entry.stamp) this.fail(entry, `model '${entry.model}' version ${entry.version} is already served by ${owner}`);
    return true;
  }

  private fail(entry: RepositoryEntry, message: string): void {
    const id = key(entry.model, entry.version);
    const reason = this.clientText(message).slice(0, 500);
    this.failed.set(id, { stamp: entry.stamp, reason });
    // The health entry is the served version's, unless nothing serves it: then it says this one is not serving.
    if (!this.served.has(id) && !this.live?.handlerOf(entry.model, entry.version)) {
      this.health?.setStatus(versionHealthName(entry.model, entry.version), 'NOT_SERVING');
    }
    this.logger.error(`Model '${entry.model}' version ${entry.version} cannot be served, so the model keeps serving what it served: ${reason}`);
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
    const { versionPolicy: _policy, batching: _batching, pollIntervalMs: _poll, control: _control, ...options } = this.options;
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

function splitKey(id: string): { name: string; version: string } {
  const at = id.lastIndexOf('@');
  return { name: id.slice(0, at), version: id.slice(at + 1) };
}
