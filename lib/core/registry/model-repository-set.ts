import { status as GrpcStatus } from '@grpc/grpc-js';
import { CallStatusError } from '../errors/call-status.error.js';
import { quoteClientText } from '../errors/client-text.js';
import type { ModelRepositoryControl, RepositoryModelState } from './model-repository.interface.js';

/** The refusal when loading and unloading are off: the same words whichever repository refuses. */
export function controlTurnedOff(): CallStatusError {
  return new CallStatusError(
    GrpcStatus.FAILED_PRECONDITION,
    'Loading and unloading models is turned off on this server (the repository option control: true turns it on)',
  );
}

/** @internal The app's model repositories as one, for OIP's repository rpcs: each model is loaded or unloaded by the repository that holds it. */
export class ModelRepositorySet implements ModelRepositoryControl {
  private readonly members: ModelRepositoryControl[] = [];

  add(repository: ModelRepositoryControl): void {
    if (!this.members.includes(repository)) this.members.push(repository);
  }

  get size(): number {
    return this.members.length;
  }

  get controllable(): boolean {
    return this.members.some((member) => member.controllable);
  }

  index(): RepositoryModelState[] {
    return this.members.flatMap((member) => member.index());
  }

  has(model: string): boolean {
    return this.members.some((member) => member.has(model));
  }

  load(model: string): Promise<void> {
    return this.holderOf(model).load(model);
  }

  unload(model: string): Promise<void> {
    return this.holderOf(model).unload(model);
  }

  private holderOf(model: string): ModelRepositoryControl {
    const holder = this.members.find((member) => member.has(model));
    if (!holder)
      throw new CallStatusError(GrpcStatus.NOT_FOUND, `No model '${quoteClientText(model)}' in the repository`);
    if (!holder.controllable) throw controlTurnedOff();
    return holder;
  }
}
