import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import { BlazeRpcError } from '../../core/errors/blaze-rpc.error.js';

/** Protobuf wire types. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const END_GROUP = 4;
const FIXED32 = 5;

const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);
const FIXED32_TYPES = new Set(['fixed32', 'sfixed32', 'float']);
const FIXED64_TYPES = new Set(['fixed64', 'sfixed64', 'double']);

/**
 * Fields of no declared field number one request may carry. Proto3 readers
 * skip unknown fields, and a newer client may send a few; a flood of them
 * only makes every later stage walk it.
 */
export const MAX_UNKNOWN_FIELDS = 1024;
/**
 * Times one singular field may occur in one message. Proto3 keeps the last
 * value (merges messages), so a client concatenating a few encoded messages
 * sends a field a few times; sending it millions of times only makes the
 * decoder read and drop every copy.
 */
export const MAX_SINGULAR_REPEATS = 64;
/** Strings at most this long are checked for UTF-8 in place; longer ones by `isUtf8`, which pays off only past its call cost. */
const INLINE_UTF8_CHECK_BYTES = 64;

/** A declared field as a cap's predicate sees it. */
export interface CappedFieldInfo {
  /** Full name of the message type declaring the field (`inference.ModelInferRequest`). */
  readonly message: string;
  /** The field's name; for a map's key, the map's name. */
  readonly name: string;
  /** The proto type (`string`, `int64`...) or the full name of a message type. */
  readonly type: string;
  readonly repeated: boolean;
  /** The field is a map (each entry counts as one element). */
  readonly map: boolean;
  /** This is the key of a map's entries (`name` is the map's). */
  readonly mapKey: boolean;
}

/**
 * @internal A bound on some fields of a request, enforced by the strict
 * decoder while it walks the bytes, so that a request over it is refused
 * before anything is decoded: at the first element past the bound, without
 * counting the rest.
 */
export interface FieldCap {
  /** Which declared fields count toward this cap; asked once per field when the decoder is built. */
  readonly counts: (field: CappedFieldInfo) => boolean;
  /** Largest total accepted. */
  readonly max: number;
  /** What an occurrence adds: one per element (default; a packed run adds its element count), or the byte length of its value. */
  readonly measure?: 'elements' | 'bytes';
  /** Totals kept over the whole request (default), or afresh in each message that holds such a field. */
  readonly per?: 'request' | 'message';
  /**
   * The error the request is refused with once the total passes `max`.
   * `field` is the top-level field it happened under (for a model's request, the input).
   */
  readonly refuse: (field: string) => Error;
}

/** A cap as bound to one field's rule. */
interface AppliedCap {
  readonly cap: FieldCap;
  readonly bytes: boolean;
  /** Index of its total: in the request's totals, or in each message's counters (`perMessage`). */
  readonly index: number;
  readonly perMessage: boolean;
}

/** What the wire may carry for one declared field. */
interface FieldRule {
  readonly name: string;
  /** The wire type of one element. */
  readonly wireType: number;
  readonly repeated: boolean;
  /** Repeated scalar numbers may also come packed (length-delimited). */
  readonly packable: boolean;
  readonly utf8: boolean;
  /** For message fields: the nested message's rules. */
  readonly nested?: MessageRules;
  /** For a singular field: the index of its occurrence counter in its message's counters; -1 otherwise. */
  readonly slot: number;
  /** The caps this field counts toward, if any. */
  readonly caps?: readonly AppliedCap[];
  /** Whether one of them counts bytes. */
  readonly bytesCapped?: boolean;
}

/** @internal The rules of one message type, by field number. */
export interface MessageRules {
  readonly typeName: string;
  readonly fields: ReadonlyMap<number, FieldRule>;
  /** Counters each message of this type needs: one per singular field, one per per-message cap its fields count toward. */
  readonly counters: number;
  /** Request-wide cap totals a walk from this type keeps. */
  readonly totals: number;
}

/** Where a singular message field's occurrences lie, when it came more than once (proto3 merges them). */
export interface RepeatedOccurrences {
  readonly field: string;
  readonly nested: protobuf.Type;
  readonly payloads: Uint8Array[];
}

/**
 * A wire-format problem: what, and where. It has no `code` of its own: the
 * request decoder words it for the client, as the `ValidationError` it raises.
 */
export class WireFormatError extends BlazeRpcError {}

/** What building one type's rules shares with the nested types' rules. */
interface RulesBuild {
  readonly seen: Map<protobuf.Type, MessageRules>;
  readonly caps: readonly FieldCap[];
  /** Index of each request-wide cap's total. */
  readonly requestIndex: Map<FieldCap, number>;
}

/**
 * @internal The wire-format rules of a protobufjs message type: each field's
 * wire type, packing, UTF-8, nesting and the caps it counts toward. Built
 * once per request type.
 */
export function rulesFor(type: protobuf.Type, caps: readonly FieldCap[] = []): MessageRules {
  const requestIndex = new Map<FieldCap, number>();
  caps.filter((cap) => cap.per !== 'message').forEach((cap, index) => requestIndex.set(cap, index));
  return buildRules(type, { seen: new Map(), caps, requestIndex });
}

function buildRules(type: protobuf.Type, build: RulesBuild): MessageRules {
  const known = build.seen.get(type);
  if (known) return known;
  const fields = new Map<number, FieldRule>();
  const rules = { typeName: type.name, fields, counters: 0, totals: build.requestIndex.size };
  build.seen.set(type, rules);
  const message = type.fullName.replace(/^\./, '');
  const perMessage = new Map<FieldCap, number>();
  const capsOf = (info: CappedFieldInfo): AppliedCap[] | undefined => {
    const applied = build.caps
      .filter((cap) => cap.counts(info))
      .map((cap): AppliedCap => {
        const bytes = cap.measure === 'bytes';
        if (cap.per !== 'message') return { cap, bytes, index: build.requestIndex.get(cap)!, perMessage: false };
        // A map's key lives in the map's entry messages, which keep no counters of their own for caps.
        if (info.mapKey) throw new Error(`a per-message cap cannot count the keys of map '${info.name}'`);
        if (!perMessage.has(cap)) perMessage.set(cap, rules.counters++);
        return { cap, bytes, index: perMessage.get(cap)!, perMessage: true };
      });
    return applied.length > 0 ? applied : undefined;
  };
  const withCaps = (caps: AppliedCap[] | undefined) => ({
    caps,
    bytesCapped: caps?.some((applied) => applied.bytes) ?? false,
  });
  for (const field of type.fieldsArray) {
    field.resolve();
    if (field instanceof protobuf.MapField) {
      // A map travels as repeated entry messages { key = 1; value = 2; }; its entries' rules are its own.
      const info = { message, name: field.name, type: field.type, repeated: true, map: true, mapKey: false };
      const keyCaps = capsOf({ ...info, type: field.keyType, map: false, mapKey: true });
      const entryRules = {
        typeName: `${type.name}.${field.name} entry`,
        fields: new Map<number, FieldRule>(),
        counters: 2,
        totals: rules.totals,
      };
      entryRules.fields.set(1, { ...ruleOf('key', field.keyType, null, false, build), slot: 0, ...withCaps(keyCaps) });
      entryRules.fields.set(2, { ...ruleOf('value', field.type, field.resolvedType, false, build), slot: 1 });
      const entry = {
        name: field.name,
        wireType: LENGTH_DELIMITED,
        repeated: true,
        packable: false,
        utf8: false,
        nested: entryRules,
        slot: -1,
      };
      fields.set(field.id, { ...entry, ...withCaps(capsOf(info)) });
      continue;
    }
    const resolved = field.resolvedType;
    const typeName = resolved ? resolved.fullName.replace(/^\./, '') : field.type;
    const caps = capsOf({
      message,
      name: field.name,
      type: typeName,
      repeated: field.repeated,
      map: false,
      mapKey: false,
    });
    const slot = field.repeated ? -1 : rules.counters++;
    fields.set(field.id, {
      ...ruleOf(field.name, field.type, resolved, field.repeated, build),
      slot,
      ...withCaps(caps),
    });
  }
  return rules;
}

function ruleOf(
  name: string,
  fieldType: string,
  resolved: protobuf.Type | protobuf.Enum | null,
  repeated: boolean,
  build: RulesBuild,
): Omit<FieldRule, 'slot' | 'caps' | 'bytesCapped'> {
  const isMessage = resolved !== null && 'fieldsArray' in resolved;
  const isEnum = resolved !== null && !isMessage;
  const wireType =
    isMessage || fieldType === 'string' || fieldType === 'bytes'
      ? LENGTH_DELIMITED
      : isEnum || VARINT_TYPES.has(fieldType)
        ? VARINT
        : FIXED32_TYPES.has(fieldType)
          ? FIXED32
          : FIXED64_TYPES.has(fieldType)
            ? FIXED64
            : LENGTH_DELIMITED;
  return {
    name,
    wireType,
    repeated,
    packable: repeated && wireType !== LENGTH_DELIMITED,
    utf8: fieldType === 'string',
    nested: isMessage ? buildRules(resolved as protobuf.Type, build) : undefined,
  };
}

/**
 * @internal Checks bytes against a message type's wire format, strictly: no
 * truncated or overlong varints, no length past the end, no field number 0,
 * no wire types 6 or 7 (or groups in declared fields), each declared field in
 * its own wire type, and valid UTF-8 in strings, nested messages included.
 * Unknown fields are skipped, as proto3 requires, up to `MAX_UNKNOWN_FIELDS`;
 * a singular field may come up to `MAX_SINGULAR_REPEATS` times. Every cap in
 * `rules` is counted as the walk goes, and the first one passed refuses the
 * request then and there. Nothing is allocated for numbers, short ASCII
 * strings or bytes, so the walk costs a few nanoseconds a field. Returns the
 * top-level singular message fields that came more than once, so they can
 * be merged.
 *
 * @throws WireFormatError naming the field and the byte offset
 * @throws what a cap's `refuse` returns, once the cap is passed
 */
export function checkWireFormat(bytes: Uint8Array, rules: MessageRules, type: protobuf.Type): RepeatedOccurrences[] {
  const occurrences = new Map<number, Uint8Array[]>();
  new WireReader(bytes, rules.totals).message(rules, bytes.length, occurrences);
  const merged: RepeatedOccurrences[] = [];
  for (const [id, payloads] of occurrences) {
    if (payloads.length < 2) continue;
    const field = type.fieldsById[id];
    merged.push({ field: field.name, nested: field.resolvedType as protobuf.Type, payloads });
  }
  return merged;
}

class WireReader {
  private pos = 0;
  private unknown = 0;
  private depth = 0;
  /** The top-level field being walked, named in cap refusals. */
  private top = '';
  private readonly totals: Float64Array;
  /** Each nesting depth's counters, reused by every message walked at that depth. */
  private readonly countersAt: Int32Array[] = [];

  constructor(
    private readonly bytes: Uint8Array,
    requestCaps: number,
  ) {
    this.totals = new Float64Array(requestCaps);
  }

  message(rules: MessageRules, end: number, occurrences?: Map<number, Uint8Array[]>): void {
    const counters = this.countersFor(rules.counters);
    this.depth++;
    while (this.pos < end) {
      const at = this.pos;
      const tag = this.varint(end, TAG);
      const id = Math.floor(tag / 8);
      const wireType = tag % 8;
      if (id === 0) throw new WireFormatError(`field number 0 at byte ${at}`);
      if (wireType > FIXED32) throw new WireFormatError(`wire type ${wireType} at byte ${at}`);
      const rule = rules.fields.get(id);
      if (!rule) {
        if (++this.unknown > MAX_UNKNOWN_FIELDS)
          throw new WireFormatError(
            `more than ${MAX_UNKNOWN_FIELDS} fields of unknown numbers (field ${id} at byte ${at})`,
          );
        this.skip(wireType, id, end, at);
        continue;
      }
      if (this.depth === 1) this.top = rule.name;
      if (rule.slot >= 0 && ++counters![rule.slot] > MAX_SINGULAR_REPEATS) {
        throw new WireFormatError(`field '${rule.name}' sent more than ${MAX_SINGULAR_REPEATS} times (at byte ${at})`);
      }
      if (wireType === rule.wireType) {
        this.value(rule, end, counters, occurrences, id);
        // The rest of a run of the same field (a list sent one element per field) without looking each tag up again.
        if (rule.repeated && !rule.nested && tag < 0x80) this.run(rule, tag, end, counters);
      } else if (rule.packable && wireType === LENGTH_DELIMITED) {
        this.packed(rule, end, counters);
      } else {
        throw new WireFormatError(
          `field '${rule.name}' sent with wire type ${wireType} at byte ${at}, expected ${rule.wireType}`,
        );
      }
    }
    this.depth--;
    if (this.pos !== end) throw new WireFormatError(`a value runs past the end of its message at byte ${this.pos}`);
  }

  /** This depth's counters, zeroed, or `undefined` when the message needs none. */
  private countersFor(size: number): Int32Array | undefined {
    if (size === 0) return undefined;
    let counters = this.countersAt[this.depth];
    if (!counters || counters.length < size) counters = this.countersAt[this.depth] = new Int32Array(Math.max(size, 8));
    counters.fill(0, 0, size);
    return counters;
  }

  /** Adds `amount` to each of the rule's caps; refuses the request once one is passed. */
  private count(rule: FieldRule, counters: Int32Array | undefined, elements: number, bytes: number): void {
    const caps = rule.caps!;
    for (let i = 0; i < caps.length; i++) {
      const applied = caps[i]!;
      const amount = applied.bytes ? bytes : elements;
      const total = applied.perMessage ? (counters![applied.index] += amount) : (this.totals[applied.index] += amount);
      if (total > applied.cap.max) throw applied.cap.refuse(this.top);
    }
  }

  private value(
    rule: FieldRule,
    end: number,
    counters: Int32Array | undefined,
    occurrences: Map<number, Uint8Array[]> | undefined,
    id: number,
  ): void {
    if (rule.wireType !== LENGTH_DELIMITED) {
      if (rule.caps) this.count(rule, counters, 1, 0);
      if (rule.wireType === VARINT) return void this.varint(end, VALUE, rule.name);
      return this.advance(rule.wireType === FIXED32 ? 4 : 8, end, rule.name);
    }
    const length = this.varint(end, LENGTH, rule.name);
    const start = this.pos;
    this.advance(length, end, rule.name);
    // Counted before the value is looked into: an entry past a cap is never walked.
    if (rule.caps) this.count(rule, counters, 1, length);
    if (rule.utf8 && !this.isUtf8(start, start + length)) {
      throw new WireFormatError(`field '${rule.name}' is not valid UTF-8`);
    }
    if (rule.nested) {
      this.pos = start;
      this.message(rule.nested, start + length);
      if (occurrences && !rule.repeated) {
        const list = occurrences.get(id) ?? [];
        list.push(this.bytes.subarray(start, start + length));
        occurrences.set(id, list);
      }
    }
  }

  /** Elements of a repeated scalar, string or bytes field for as long as the next tag is `tag` (one byte): the loop lists spend their time in. */
  private run(rule: FieldRule, tag: number, end: number, counters: Int32Array | undefined): void {
    const { bytes } = this;
    const delimited = rule.wireType === LENGTH_DELIMITED;
    // Elements the field's caps still take: counted here, added to the caps once the run ends or passes them.
    const room = this.room(rule, counters);
    let elements = 0;
    while (this.pos < end && bytes[this.pos] === tag) {
      if (++elements > room) break;
      this.pos++;
      if (!delimited) {
        if (rule.wireType === VARINT) this.varint(end, VALUE, rule.name);
        else this.advance(rule.wireType === FIXED32 ? 4 : 8, end, rule.name);
        continue;
      }
      const short = this.pos < end ? bytes[this.pos]! : 0x80;
      let length: number;
      if (short < 0x80) {
        length = short;
        this.pos++;
      } else {
        length = this.varint(end, LENGTH, rule.name);
      }
      const start = this.pos;
      this.advance(length, end, rule.name);
      if (rule.bytesCapped) this.count(rule, counters, 0, length);
      if (rule.utf8 && length > 0 && !this.isUtf8(start, start + length))
        throw new WireFormatError(`field '${rule.name}' is not valid UTF-8`);
    }
    if (rule.caps) this.count(rule, counters, elements, 0);
  }

  /** How many more elements of this field its element caps take (Infinity when it has none). */
  private room(rule: FieldRule, counters: Int32Array | undefined): number {
    let room = Infinity;
    const caps = rule.caps;
    if (!caps) return room;
    for (let i = 0; i < caps.length; i++) {
      const applied = caps[i]!;
      if (applied.bytes) continue;
      const total = applied.perMessage ? counters![applied.index]! : this.totals[applied.index]!;
      room = Math.min(room, applied.cap.max - total);
    }
    return room;
  }

  private packed(rule: FieldRule, end: number, counters: Int32Array | undefined): void {
    const length = this.varint(end, LENGTH, rule.name);
    const stop = this.pos + length;
    if (stop > end) throw new WireFormatError(`field '${rule.name}' runs past the end of the message`);
    if (rule.wireType === VARINT) {
      // Byte by byte rather than value by value: a varint is at most ten bytes, the tenth 0 or 1, and the run ends on a last byte.
      // Counted one element at a time, so a run far past a cap stops at the cap.
      const { bytes } = this;
      let continued = 0;
      for (let i = this.pos; i < stop; i++) {
        const byte = bytes[i]!;
        if (continued === 9 && byte > 1) throw new WireFormatError(`field '${rule.name}' is an overlong varint`);
        if (byte >= 0x80) {
          continued++;
        } else {
          continued = 0;
          if (rule.caps) this.count(rule, counters, 1, 0);
        }
      }
      if (continued > 0) throw new WireFormatError(`field '${rule.name}' is cut off at byte ${stop}`);
      this.pos = stop;
    } else {
      const size = rule.wireType === FIXED32 ? 4 : 8;
      if (length % size !== 0)
        throw new WireFormatError(`packed field '${rule.name}' is ${length} bytes, not a multiple of ${size}`);
      if (rule.caps) this.count(rule, counters, length / size, 0);
      this.pos = stop;
    }
  }

  /** Whether bytes `start` to `end` are UTF-8: short ASCII runs are checked here, without a view or a native call per string. */
  private isUtf8(start: number, end: number): boolean {
    if (end - start > INLINE_UTF8_CHECK_BYTES) return isUtf8(this.bytes.subarray(start, end));
    for (let i = start; i < end; i++) if (this.bytes[i]! >= 0x80) return isUtf8(this.bytes.subarray(i, end));
    return true;
  }

  private skip(wireType: number, id: number, end: number, at: number): void {
    if (wireType === VARINT) return void this.varint(end, VALUE, id);
    if (wireType === FIXED64) return this.advance(8, end, id);
    if (wireType === FIXED32) return this.advance(4, end, id);
    if (wireType === LENGTH_DELIMITED) return this.advance(this.varint(end, LENGTH, id), end, id);
    if (wireType === END_GROUP) throw new WireFormatError(`an unmatched group end at byte ${at}`);
    // START_GROUP: unknown groups are skipped to their matching end; every field in them counts as unknown.
    while (true) {
      if (this.pos >= end) throw new WireFormatError(`group ${id} has no end`);
      const innerAt = this.pos;
      const tag = this.varint(end, TAG);
      const innerType = tag % 8;
      if (innerType === END_GROUP) {
        if (Math.floor(tag / 8) !== id)
          throw new WireFormatError(`group ${id} ends with the wrong field number at byte ${innerAt}`);
        return;
      }
      if (Math.floor(tag / 8) === 0 || innerType > FIXED32) throw new WireFormatError(`bad tag at byte ${innerAt}`);
      if (++this.unknown > MAX_UNKNOWN_FIELDS)
        throw new WireFormatError(`more than ${MAX_UNKNOWN_FIELDS} fields of unknown numbers (in group ${id})`);
      this.skip(innerType, Math.floor(tag / 8), end, innerAt);
    }
  }

  private advance(length: number, end: number, field: string | number): void {
    if (this.pos + length > end)
      throw new WireFormatError(`field ${fieldName(field)} runs past the end of the message`);
    this.pos += length;
  }

  /**
   * A varint as a number: a value of at most 10 bytes (the 10th carrying one
   * bit; exact below 2^53, only sizes are used), a tag or length of at most
   * 5 bytes and 32 bits. What it is and whose are words for an error only:
   * nothing is built per field read.
   */
  private varint(end: number, what: VarintRole, field?: string | number): number {
    // Tags and lengths are 32-bit, read as protobufjs reads them: five bytes at most, or it reads different fields than were checked.
    const maxBytes = what === VALUE ? 10 : 5;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= end) throw new WireFormatError(`${describeVarint(what, field)} is cut off at byte ${this.pos}`);
      const byte = this.bytes[this.pos++];
      if (i === 9 && byte > 1) throw new WireFormatError(`${describeVarint(what, field)} is an overlong varint`);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > 0xffffffff && what !== VALUE)
          throw new WireFormatError(`${describeVarint(what, field)} is over 32 bits`);
        return value;
      }
      scale *= 128;
    }
    throw new WireFormatError(`${describeVarint(what, field)} is an overlong varint`);
  }
}

/** What a varint read is: a tag, a field's value, or a field's length. */
const TAG = 0;
const VALUE = 1;
const LENGTH = 2;
type VarintRole = typeof TAG | typeof VALUE | typeof LENGTH;

/** A declared field by its name (quoted), an unknown one by its number. */
function fieldName(field: string | number | undefined): string {
  return typeof field === 'string' ? `'${field}'` : String(field);
}

function describeVarint(what: VarintRole, field: string | number | undefined): string {
  if (what === TAG) return 'a field tag';
  return what === VALUE ? `field ${fieldName(field)}` : `the length of field ${fieldName(field)}`;
}
