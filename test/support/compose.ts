/**
 * Reading docker-compose.yml, the Dockerfile and the Keycloak realm the way their real
 * consumers do, so test/integration/compose.test.ts can check them without a Docker engine:
 * compose's variable interpolation, the apache/kafka image's KAFKA_* -> server.properties
 * rendering, Dockerfile stage names.
 */
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./infra";

// js-yaml comes with jest (a transitive dependency, 3.x) and has no type declarations here.
// 3.x parses safely with safeLoad; 4.x removed it and its load is the safe one.
type YamlLoad = (text: string, opts?: { filename?: string }) => unknown;
const yaml: { load: YamlLoad; safeLoad?: YamlLoad } = require("js-yaml");
const yamlMajor = Number((require("js-yaml/package.json") as { version: string }).version.split(".")[0]);
const loadYaml: YamlLoad = yamlMajor < 4 && yaml.safeLoad ? yaml.safeLoad : yaml.load;

export const COMPOSE_FILE = path.join(REPO_ROOT, "docker-compose.yml");
export const DOCKERFILE = path.join(REPO_ROOT, "Dockerfile");
export const ENV_EXAMPLE = path.join(REPO_ROOT, ".env.example");
export const REALM_FILE = path.join(REPO_ROOT, "deploy", "keycloak", "ticketing-realm.json");

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  ports?: Array<string | { target: number; published?: string | number; host_ip?: string }>;
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  [key: string]: unknown;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

export function parseYaml(text: string, filename: string): unknown {
  return loadYaml(text, { filename });
}

export function readCompose(file = COMPOSE_FILE): { text: string; raw: ComposeFile } {
  const text = fs.readFileSync(file, "utf8");
  const raw = parseYaml(text, file);
  if (typeof raw !== "object" || raw === null || !("services" in raw)) throw new Error(`${file} has no services`);
  return { text, raw: raw as ComposeFile };
}

/** A `${...}` (or `$NAME`) reference found in a compose file. */
export interface VariableRef {
  name: string;
  /** `:-` / `-` default, `:?` / `?` required, `:+` / `+` alternative, or a plain reference. */
  operator: ":-" | "-" | ":?" | "?" | ":+" | "+" | "";
  /** The default, the error message or the alternative, as written. */
  argument: string;
}

const BRACED = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?|:\+|\+)([^}]*))?\}/;
const BARE = /^\$([A-Za-z_][A-Za-z0-9_]*)/;

export class InterpolationError extends Error {
  override readonly name = "InterpolationError";
}

/**
 * Compose's interpolation of one string: `$$` is a literal `$`; `${VAR:-x}` uses x when VAR
 * is unset or empty, `${VAR-x}` only when unset; `${VAR:?msg}` / `${VAR?msg}` fail;
 * `${VAR:+x}` / `${VAR+x}` give x when set. Nested references are not supported (this file
 * does not use them) and are reported as an error rather than guessed.
 */
export function interpolate(value: string, env: Record<string, string | undefined>, refs?: VariableRef[]): string {
  let out = "";
  let i = 0;
  while (i < value.length) {
    const dollar = value.indexOf("$", i);
    if (dollar < 0) {
      out += value.slice(i);
      break;
    }
    out += value.slice(i, dollar);
    const rest = value.slice(dollar);
    if (rest.startsWith("$$")) {
      out += "$";
      i = dollar + 2;
      continue;
    }
    const braced = BRACED.exec(rest);
    const bare = braced ? null : BARE.exec(rest);
    if (!braced && !bare) {
      throw new InterpolationError(`invalid interpolation at "${rest.slice(0, 30)}" (use $$ for a literal $)`);
    }
    const name = (braced ?? bare)![1];
    const operator = (braced?.[2] ?? "") as VariableRef["operator"];
    const argument = braced?.[3] ?? "";
    if (argument.includes("${")) throw new InterpolationError(`nested interpolation in "${braced![0]}" is not supported`);
    refs?.push({ name, operator, argument });
    const current = env[name];
    const set = current !== undefined;
    const nonEmpty = set && current !== "";
    switch (operator) {
      case ":-":
        out += nonEmpty ? current : argument;
        break;
      case "-":
        out += set ? current : argument;
        break;
      case ":?":
        if (!nonEmpty) throw new InterpolationError(`required variable ${name} is missing a value: ${argument}`);
        out += current;
        break;
      case "?":
        if (!set) throw new InterpolationError(`required variable ${name} is missing a value: ${argument}`);
        out += current;
        break;
      case ":+":
        out += nonEmpty ? argument : "";
        break;
      case "+":
        out += set ? argument : "";
        break;
      default:
        out += current ?? "";
    }
    i = dollar + (braced ?? bare)![0].length;
  }
  return out;
}

/** Interpolates every string (values only, as compose does) of a parsed document. */
export function interpolateDeep<T>(node: T, env: Record<string, string | undefined>, refs?: VariableRef[]): T {
  if (typeof node === "string") return interpolate(node, env, refs) as T;
  if (Array.isArray(node)) return node.map((item: unknown) => interpolateDeep(item, env, refs)) as T;
  if (typeof node === "object" && node !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) out[key] = interpolateDeep(value, env, refs);
    return out as T;
  }
  return node;
}

/** Every variable the compose document references, with how. */
export function variableRefs(doc: unknown): VariableRef[] {
  const refs: VariableRef[] = [];
  // Values that make every reference resolve, so the walk sees them all.
  const everything = new Proxy({} as Record<string, string>, { get: () => "x" });
  interpolateDeep(doc, everything, refs);
  return refs;
}

/** A service's `environment`, map or list form, as strings (null = passed from the shell: unset here). */
export function serviceEnvironment(service: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  const raw = service.environment;
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const eq = entry.indexOf("=");
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  } else if (raw) {
    for (const [key, value] of Object.entries(raw)) if (value !== null) env[key] = String(value);
  }
  return env;
}

export function dependencyNames(service: ComposeService): string[] {
  const deps = service.depends_on;
  if (!deps) return [];
  return Array.isArray(deps) ? deps : Object.keys(deps);
}

export function commandWords(command: string | string[] | undefined): string[] {
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);
}

// Variables the apache/kafka image passes to the JVM instead of rendering them
// (its docker/resources/common-scripts/kafka-propertiesSpec.json).
const KAFKA_IMAGE_EXCLUDES = new Set([
  "KAFKA_VERSION",
  "KAFKA_HEAP_OPT",
  "KAFKA_LOG4J_OPTS",
  "KAFKA_OPTS",
  "KAFKA_JMX_OPTS",
  "KAFKA_JVM_PERFORMANCE_OPTS",
  "KAFKA_GC_LOG_OPTS",
  "KAFKA_LOG4J_ROOT_LOGLEVEL",
  "KAFKA_LOG4J_LOGGERS",
  "KAFKA_TOOLS_LOG4J_LOGLEVEL",
]);

/**
 * The server.properties the apache/kafka image writes from KAFKA_* variables: a single `_`
 * becomes `.`, `__` becomes `_`, `___` becomes `-`, lower-cased (its utility.go ConvertKey).
 */
export function kafkaServerProperties(env: Record<string, string>): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith("KAFKA_") || KAFKA_IMAGE_EXCLUDES.has(key)) continue;
    const property = key
      .slice("KAFKA_".length)
      .replace(/[^_]_[^_]/g, (m) => m.replace("_", "."))
      .replace(/___/g, "-")
      .replace(/__/g, "_")
      .toLowerCase();
    props[property] = value;
  }
  return props;
}

/** `NAME://host:port` entries of a Kafka listener list. */
export function parseListeners(value: string): Array<{ name: string; host: string; port: number }> {
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^([A-Za-z0-9_]+):\/\/([^:]*):(\d+)$/.exec(entry);
      if (!m) throw new Error(`not a listener: "${entry}"`);
      return { name: m[1], host: m[2], port: Number(m[3]) };
    });
}

/** Stage names (`FROM image AS name`) of a Dockerfile, in order. */
export function dockerfileStages(text: string): string[] {
  const stages: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*FROM\s+(?:--platform=\S+\s+)?\S+\s+AS\s+(\S+)\s*$/i.exec(line);
    if (m) stages.push(m[1].toLowerCase());
  }
  return stages;
}

// Names ending like a secret: KC_BOOTSTRAP_ADMIN_PASSWORD, secret, MUSIC_TOKEN, GEOCODER_API_KEY...
// (not passwordPolicy or accessTokenLifespan).
const SECRET_KEY = /(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key)$/i;
const ONLY_SUBSTITUTIONS = /^(\$\{[^}]*\})+$/;

/**
 * Places where a secret-looking key (password, secret, token, api key...) holds a literal
 * value instead of a `${...}` substitution. Keycloak's own `${...}` placeholders and
 * empty values are fine; `false`/`true` flags too.
 */
export function secretLiterals(node: unknown, at = "$"): string[] {
  const found: string[] = [];
  const visit = (value: unknown, where: string, key: string | undefined): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        if (typeof item === "string" && key === "environment") {
          const eq = item.indexOf("=");
          if (eq > 0) visit(item.slice(eq + 1), `${where}[${i}]`, item.slice(0, eq));
          return;
        }
        visit(item, `${where}[${i}]`, key);
      });
    } else if (typeof value === "object" && value !== null) {
      for (const [k, v] of Object.entries(value)) visit(v, `${where}.${k}`, k);
    } else if (typeof value === "string" && key !== undefined && SECRET_KEY.test(key)) {
      const trimmed = value.trim();
      if (trimmed !== "" && !ONLY_SUBSTITUTIONS.test(trimmed) && !/^(true|false)$/i.test(trimmed)) found.push(where);
    }
  };
  visit(node, at, undefined);
  return found;
}

/** `NAME=value` lines of an env file (comments and blanks skipped). */
export function envFileNames(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}
