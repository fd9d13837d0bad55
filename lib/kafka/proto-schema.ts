import { existsSync } from "node:fs";
import path from "node:path";
import type { Field, Long, Message, Root, Type } from "protobufjs";

/** protobufjs, loaded with the first .proto root, not at start: only the Kafka bridges use it. */
const protobuf = () => require("protobufjs") as typeof import("protobufjs");

/** A message that cannot be decoded (bad bytes, an enum value or a number we cannot represent): the reason names the field. */
export class ProtoDecodeError extends Error {
  override name = "ProtoDecodeError";
}

/**
 * The repository's proto/ folder. Walking up finds it both from the sources (lib/kafka) and from
 * the build (dist/lib/kafka), which the image keeps next to proto/.
 */
function protoDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "proto");
    if (existsSync(path.join(candidate, "vibe"))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`no proto/ folder above ${__dirname}`);
  }
}

/**
 * Parses .proto files (paths relative to proto/) at run time, so there is no code generation step.
 * Imports are resolved against proto/ as `protoc -I proto` does; google/protobuf/* come bundled
 * with protobufjs. Field names keep the files' snake_case, like the JSON shapes.
 */
export function loadProtoRoot(files: readonly string[]): Root {
  const dir = protoDir();
  const root = new (protobuf().Root)();
  root.resolvePath = (_origin, target) => path.resolve(dir, target);
  root.loadSync(
    files.map((file) => path.join(dir, file)),
    { keepCase: true },
  );
  root.resolveAll();
  return root;
}

const TIMESTAMP = ".google.protobuf.Timestamp";

function isTimestamp(field: Field): boolean {
  return field.resolvedType instanceof protobuf().Type && field.resolvedType.fullName === TIMESTAMP;
}

/**
 * A plain object (enums by name, int64 as numbers, Timestamps as epoch milliseconds) as the
 * message protobufjs encodes. Absent (undefined) fields stay absent; an unknown enum name throws.
 */
function toWire(type: Type, value: Record<string, unknown>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const v = value[field.name];
    if (v === undefined) continue;
    const at = `${where}.${field.name}`;
    out[field.name] =
      field.repeated && Array.isArray(v)
        ? v.map((item, i) => toWireValue(field, item, `${at}[${i}]`))
        : toWireValue(field, v, at);
  }
  return out;
}

function toWireValue(field: Field, v: unknown, at: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf().Enum) {
    if (typeof v !== "string" || !Object.hasOwn(resolved.values, v))
      throw new Error(`${at}: ${JSON.stringify(v)} is not a value of ${resolved.name}`);
    return resolved.values[v];
  }
  if (isTimestamp(field)) {
    if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`${at}: epoch milliseconds expected`);
    return { seconds: Math.floor(v / 1000), nanos: (((v % 1000) + 1000) % 1000) * 1_000_000 };
  }
  if (resolved instanceof protobuf().Type) {
    if (typeof v !== "object" || v === null) throw new Error(`${at}: object expected`);
    return toWire(resolved, v as Record<string, unknown>, at);
  }
  return v;
}

/** Encodes a plain object (see toWire) after `Type.verify`; a message that does not verify throws, naming the field. */
export function encodeMessage(type: Type, value: object): Buffer {
  const wire = toWire(type, value as Record<string, unknown>, type.name);
  const problem = type.verify(wire);
  if (problem) throw new Error(`invalid ${type.name}: ${problem}`);
  const bytes = type.encode(wire).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes bytes to a plain object: enums by name, 64-bit integers as numbers, Timestamps as epoch
 * milliseconds, absent scalars as their proto3 defaults, absent messages and oneof members
 * omitted. Unknown fields are skipped. Throws ProtoDecodeError for bytes that are not the message.
 */
export function decodeMessage<T>(type: Type, bytes: Uint8Array): T {
  let message: Message;
  try {
    message = type.decode(bytes);
  } catch (err) {
    throw new ProtoDecodeError(`undecodable ${type.name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return fromWire(type, message as unknown as Record<string, unknown>, type.name) as T;
}

function fromWire(type: Type, message: Record<string, unknown>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const present = Object.prototype.hasOwnProperty.call(message, field.name);
    // proto3: an absent scalar reads as its default, but an absent message or oneof member has no value.
    if (!present && !field.repeated && (field.partOf || field.resolvedType instanceof protobuf().Type)) continue;
    const v = message[field.name];
    const at = `${where}.${field.name}`;
    out[field.name] = field.repeated
      ? ((v as unknown[] | undefined) ?? []).map((item, i) => fromWireValue(field, item, `${at}[${i}]`))
      : fromWireValue(field, v, at);
  }
  return out;
}

function fromWireValue(field: Field, v: unknown, at: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf().Enum) {
    const name = resolved.valuesById[v as number];
    if (name === undefined) throw new ProtoDecodeError(`${at}: unknown ${resolved.name} value ${String(v)}`);
    return name;
  }
  if (isTimestamp(field)) {
    const { seconds, nanos } = v as { seconds: unknown; nanos: number };
    return safeNumber(seconds, `${at}.seconds`) * 1000 + Math.floor(nanos / 1_000_000);
  }
  if (resolved instanceof protobuf().Type) return fromWire(resolved, v as Record<string, unknown>, at);
  return isLong(v) ? safeNumber(v, at) : v;
}

/** protobufjs reads 64-bit integers as Long objects (long.js is installed with it). */
function isLong(v: unknown): v is Long {
  return typeof v === "object" && v !== null && "low" in v && "high" in v;
}

function safeNumber(v: unknown, at: string): number {
  const n = isLong(v) ? protobuf().util.LongBits.from(v).toNumber(v.unsigned) : (v as number);
  if (!Number.isSafeInteger(n)) throw new ProtoDecodeError(`${at}: ${String(v)} does not fit a JavaScript number`);
  return n;
}
