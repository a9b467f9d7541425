import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';

/** Protobuf wire types. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const END_GROUP = 4;
const FIXED32 = 5;

const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);
const FIXED32_TYPES = new Set(['fixed32', 'sfixed32', 'float']);
const FIXED64_TYPES = new Set(['fixed64', 'sfixed64', 'double']);

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
}

/** @internal The rules of one message type, by field number. */
export interface MessageRules {
  readonly typeName: string;
  readonly fields: ReadonlyMap<number, FieldRule>;
}

/** Where a singular message field's occurrences lie, when it came more than once (proto3 merges them). */
export interface RepeatedOccurrences {
  readonly field: string;
  readonly nested: protobuf.Type;
  readonly payloads: Uint8Array[];
}

/** A wire-format problem: what, and where. */
export class WireFormatError extends Error {}

/**
 * @internal The wire-format rules of a protobufjs message type: each field's
 * wire type, packing, UTF-8 and nesting. Built once per request type.
 */
export function rulesFor(type: protobuf.Type, seen = new Map<protobuf.Type, MessageRules>()): MessageRules {
  const known = seen.get(type);
  if (known) return known;
  const fields = new Map<number, FieldRule>();
  const rules: MessageRules = { typeName: type.name, fields };
  seen.set(type, rules);
  for (const field of type.fieldsArray) {
    field.resolve();
    if (field instanceof protobuf.MapField) {
      // A map travels as repeated entry messages { key = 1; value = 2; }.
      const entry = new Map<number, FieldRule>([
        [1, ruleOf('key', field.keyType, null, false, seen)],
        [2, ruleOf('value', field.type, field.resolvedType, false, seen)],
      ]);
      const nested: MessageRules = { typeName: `${type.name}.${field.name} entry`, fields: entry };
      fields.set(field.id, { name: field.name, wireType: LENGTH_DELIMITED, repeated: true, packable: false, utf8: false, nested });
      continue;
    }
    fields.set(field.id, ruleOf(field.name, field.type, field.resolvedType, field.repeated, seen));
  }
  return rules;
}

function ruleOf(
  name: string,
  fieldType: string,
  resolved: protobuf.Type | protobuf.Enum | null,
  repeated: boolean,
  seen: Map<protobuf.Type, MessageRules>,
): FieldRule {
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
    nested: isMessage ? rulesFor(resolved as protobuf.Type, seen) : undefined,
  };
}

/**
 * @internal Checks bytes against a message type's wire format, strictly: no
 * truncated or overlong varints, no length past the end, no field number 0,
 * no wire types 6 or 7 (or groups in declared fields), each declared field in
 * its own wire type, and valid UTF-8 in strings, nested messages included.
 * Unknown fields are skipped, as proto3 requires. Returns the top-level
 * singular message fields that came more than once, so they can be merged.
 *
 * @throws WireFormatError naming the field and the byte offset
 */
export function checkWireFormat(bytes: Uint8Array, rules: MessageRules, type: protobuf.Type): RepeatedOccurrences[] {
  const occurrences = new Map<number, Uint8Array[]>();
  new WireReader(bytes).message(rules, bytes.length, occurrences);
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

  constructor(private readonly bytes: Uint8Array) {}

  message(rules: MessageRules, end: number, occurrences?: Map<number, Uint8Array[]>): void {
    while (this.pos < end) {
      const at = this.pos;
      const tag = this.varint(end, 'a field tag');
      const id = Math.floor(tag / 8);
      const wireType = tag % 8;
      if (id === 0) throw new WireFormatError(`field number 0 at byte ${at}`);
      if (wireType > FIXED32) throw new WireFormatError(`wire type ${wireType} at byte ${at}`);
      const rule = rules.fields.get(id);
      if (!rule) {
        this.skip(wireType, id, end, at);
        continue;
      }
      if (wireType === rule.wireType) {
        this.value(rule, end, occurrences, id);
      } else if (rule.packable && wireType === LENGTH_DELIMITED) {
        this.packed(rule, end);
      } else {
        throw new WireFormatError(`field '${rule.name}' sent with wire type ${wireType} at byte ${at}, expected ${rule.wireType}`);
      }
    }
    if (this.pos !== end) throw new WireFormatError(`a value runs past the end of its message at byte ${this.pos}`);
  }

  private value(rule: FieldRule, end: number, occurrences: Map<number, Uint8Array[]> | undefined, id: number): void {
    if (rule.wireType === VARINT) return void this.varint(end, `field '${rule.name}'`);
    if (rule.wireType === FIXED32) return this.advance(4, end, rule.name);
    if (rule.wireType === FIXED64) return this.advance(8, end, rule.name);
    const length = this.varint(end, `the length of field '${rule.name}'`);
    const start = this.pos;
    this.advance(length, end, rule.name);
    if (rule.utf8 && !isUtf8(this.bytes.subarray(start, start + length))) {
      throw new WireFormatError(`field '${rule.name}' is not valid UTF-8`);
    }
    if (rule.nested) {
      const inner = new WireReader(this.bytes);
      inner.pos = start;
      inner.message(rule.nested, start + length);
      if (occurrences && !rule.repeated) {
        const list = occurrences.get(id) ?? [];
        list.push(this.bytes.subarray(start, start + length));
        occurrences.set(id, list);
      }
    }
  }

  private packed(rule: FieldRule, end: number): void {
    const length = this.varint(end, `the length of field '${rule.name}'`);
    const stop = this.pos + length;
    if (stop > end) throw new WireFormatError(`field '${rule.name}' runs past the end of the message`);
    if (rule.wireType === VARINT) {
      while (this.pos < stop) this.varint(stop, `field '${rule.name}'`);
    } else {
      const size = rule.wireType === FIXED32 ? 4 : 8;
      if (length % size !== 0) throw new WireFormatError(`packed field '${rule.name}' is ${length} bytes, not a multiple of ${size}`);
      this.pos = stop;
    }
  }

  private skip(wireType: number, id: number, end: number, at: number): void {
    if (wireType === VARINT) return void this.varint(end, `field ${id}`);
    if (wireType === FIXED64) return this.advance(8, end, `${id}`);
    if (wireType === FIXED32) return this.advance(4, end, `${id}`);
    if (wireType === LENGTH_DELIMITED) return this.advance(this.varint(end, `the length of field ${id}`), end, `${id}`);
    if (wireType === END_GROUP) throw new WireFormatError(`an unmatched group end at byte ${at}`);
    // START_GROUP: unknown groups are skipped to their matching end.
    while (true) {
      if (this.pos >= end) throw new WireFormatError(`group ${id} has no end`);
      const innerAt = this.pos;
      const tag = this.varint(end, 'a field tag');
      const innerType = tag % 8;
      if (innerType === END_GROUP) {
        if (Math.floor(tag / 8) !== id) throw new WireFormatError(`group ${id} ends with the wrong field number at byte ${innerAt}`);
        return;
      }
      if (Math.floor(tag / 8) === 0 || innerType > FIXED32) throw new WireFormatError(`bad tag at byte ${innerAt}`);
      this.skip(innerType, Math.floor(tag / 8), end, innerAt);
    }
  }

  private advance(length: number, end: number, field: string): void {
    if (this.pos + length > end) throw new WireFormatError(`field '${field}' runs past the end of the message`);
    this.pos += length;
  }

  /** A varint of at most 10 bytes (the 10th carrying one bit), as a number (exact below 2^53; only sizes and tags are used). */
  private varint(end: number, what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new WireFormatError(`${what} is cut off at byte ${this.pos}`);
      const byte = this.bytes[this.pos++];
      if (i === 9 && byte > 1) throw new WireFormatError(`${what} is an overlong varint`);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new WireFormatError(`${what} is an overlong varint`);
  }
}
