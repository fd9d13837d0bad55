import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The request body parser of the gateway: a JSON object, bounded in size and depth before
 * JSON.parse and everything after it sees it. A body nested deeper than anything the API
 * accepts costs nothing to refuse here, while past this point every recursive step (the
 * validator, error encoding, the transporter's serializer) would have to survive it.
 */
export interface JsonBodyLimits {
  maxBytes: number;
  maxDepth: number;
}

/** Why a body was refused: `status` and `type` are stable, the message names the limit, never the body. */
export class BodyError extends Error {
  override readonly name = "BodyError";
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

type Next = (err?: unknown) => void;
export type ParsedRequest = IncomingMessage & { body?: Record<string, unknown> };

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/** A connect-style middleware (what moleculer-web's routes `use`) that sets `req.body`. */
export function jsonBody(limits: JsonBodyLimits) {
  return (req: ParsedRequest, _res: ServerResponse, next: Next): void => {
    if (!hasBody(req)) return next();
    const problem = mediaTypeProblem(req.headers["content-type"]);
    if (problem) return refuse(req, next, problem);
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limits.maxBytes) return refuse(req, next, tooLarge(limits));

    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", finish);
      if (err) return refuse(req, next, err);
      next();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return finish(tooLarge(limits));
      chunks.push(chunk);
    };
    const onEnd = () => {
      try {
        req.body = parseJsonObject(Buffer.concat(chunks, size), limits.maxDepth);
        finish();
      } catch (err) {
        finish(err);
      }
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", finish);
  };
}

/** Decodes and parses a body: UTF-8 only, at most `maxDepth` levels of objects and arrays, an object at the top. */
export function parseJsonObject(bytes: Buffer, maxDepth: number): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new BodyError(400, "INVALID_UTF8", "the body is not valid UTF-8");
  }
  if (text.trim() === "") return {};
  if (depthOf(text, maxDepth) > maxDepth) {
    throw new BodyError(400, "JSON_TOO_DEEP", `the body nests objects and arrays deeper than ${maxDepth} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the body around the fault: never repeated to the client.
    throw new BodyError(400, "INVALID_JSON", "the body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BodyError(400, "BODY_NOT_OBJECT", "the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/**
 * The deepest nesting of objects and arrays in a JSON text, counted without parsing (stops
 * counting once past `limit`). Brackets inside strings do not count.
 */
export function depthOf(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

function hasBody(req: IncomingMessage): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const length = req.headers["content-length"];
  return length !== undefined && length !== "0";
}

function mediaTypeProblem(contentType: string | undefined): BodyError | null {
  const [type, ...params] = (contentType ?? "").split(";").map((p) => p.trim());
  const charset = params
    .find((p) => /^charset=/i.test(p))
    ?.slice("charset=".length)
    .replace(/"/g, "");
  if (JSON_TYPE.test(type) && (charset === undefined || /^utf-8$/i.test(charset))) return null;
  return new BodyError(415, "UNSUPPORTED_MEDIA_TYPE", "the body must be application/json in UTF-8");
}

function tooLarge(limits: JsonBodyLimits): BodyError {
  return new BodyError(413, "PAYLOAD_TOO_LARGE", `the body is larger than ${limits.maxBytes} bytes`);
}

/** Answers at once; what the client still sends is read and dropped so the connection stays usable. */
function refuse(req: IncomingMessage, next: Next, err: unknown): void {
  req.resume();
  next(err);
}
