/** User-facing text of registration errors: each names the handler and shows the fix. */
export const registrationMessages = {
  invalidModelName: (where: string, name: string) =>
    `${where}: model name '${name}' is invalid. Use a letter followed by letters, digits, '-' or '_', e.g. @Model('text-gen').`,
  versionNotString: (where: string, version: unknown) =>
    `${where}: version must be a string (or a whole number), got ${typeof version} ${JSON.stringify(version) ?? String(version)}, e.g. { version: '2' }.`,
  invalidVersion: (where: string, version: string) =>
    `${where}: version '${version}' is invalid. Use letters, digits, '.', '-' or '_', e.g. { version: '2' }.`,
  invalidFieldName: (where: string, kind: string, name: string) =>
    `${where}: ${kind} name '${name}' is invalid. Use a proto identifier (letters, digits, '_'), e.g. 'input_text'.`,
  keywordFieldName: (where: string, kind: string, name: string) =>
    `${where}: ${kind} name '${name}' is a proto keyword. Rename it, e.g. '${name}_value'.`,
  duplicateInput: (where: string, name: string) =>
    `${where}: two parameters are bound to input '${name}'. Give each @Input() its own name.`,
  undecoratedParam: (where: string, index: number) =>
    `${where}: parameter #${index} has no decorator, so nothing would be passed to it. ` +
    `Mark it @Input('name') for a request field, @Ctx() for the call context, or @Depends(fn) for a per-call dependency.`,
  uninferableInput: (where: string, index: number, name: string, designType: unknown) => {
    const example =
      designType === Array
        ? `@Input('${name}', [String])`
        : (designType as { name?: string })?.name === 'Tensor'
          ? `@Input('${name}', Tensor.of('float32', ['batch', 4]))`
          : `@Input('${name}', String)`;
    const seen =
      designType === Array ? 'is an array' : `has type '${(designType as { name?: string })?.name ?? 'unknown'}'`;
    return (
      `${where}: parameter #${index} ('${name}') ${seen}, which does not say its wire type. ` +
      `Give a type token, e.g. ${example}.`
    );
  },
  invalidType: (where: string, what: string, problem: string) =>
    `${where}: ${what}: ${problem}. Use String, Boolean, Number, Float32, Float64, Int32, Int64, UInt32, UInt64, Bytes, [T] or Tensor.of(dtype, shape).`,
  uninferableResult: (where: string, name: string) =>
    `${where}: the result type cannot be read from the method signature. Declare it, e.g. @Model('${name}', { returns: String }).`,
  streamedInputNotAlone: (where: string, name: string, inputs: string[]) =>
    `${where}: input '${name}' is a Stream(...), so it must be the model's only @Input (it has ${inputs.map((i) => `'${i}'`).join(', ')}): ` +
    `each streamed request message carries that one field. Stream one input, or take the others as a tensor or list in it; ` +
    `@Ctx() and @Depends() may stay.`,
  streamingMismatch: (where: string, name: string) =>
    `${where}: the method is a generator, so it streams, but { streaming: false } was given. ` +
    `Remove the option, or return a single value instead of yielding: @Model('${name}').`,
  streamingOnScalar: (where: string, name: string) =>
    `${where}: { streaming: true } but the method returns a single value. ` +
    `Make it an async generator (async *${name}() { yield ... }) or return an Observable/AsyncIterable.`,
  noOutputs: (where: string) => `${where}: named outputs need at least one entry, e.g. { returns: { label: String } }.`,
  duplicateVersion: (name: string, version: string, first: string, second: string) =>
    `Model '${name}' version '${version}' is declared twice: by ${first} and by ${second}. ` +
    `Give one of them another version, e.g. @Model('${name}', { version: '2' }).`,
  twoDefaults: (name: string, first: string, second: string) =>
    `Model '${name}' marks two versions as default (${first} and ${second}). Keep { default: true } on one.`,
  nameCollision: (generated: string, first: string, second: string) =>
    `Generated name '${generated}' is produced by both ${first} and ${second}. ` +
    `Rename one model so that their PascalCase names differ (e.g. 'text-gen' and 'text_gen' both give 'TextGen').`,
} as const;
