/**
 * Typed readers for environment variables. Each throws a ConfigError naming the variable and
 * what was wrong, so a bad deployment stops at start with a message an operator can act on.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export type Env = Record<string, string | undefined>;

export class EnvReader {
  constructor(private readonly env: Env) {}

  /** Unset and empty are the same: compose files often pass `VAR=` to mean "not set". */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback;
  }

  required(name: string, why: string): string {
    const value = this.raw(name);
    if (value === undefined) throw new ConfigError(`${name} is required ${why}`);
    return value;
  }

  int(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
    const value = Number(raw);
    if (range.min !== undefined && value < range.min)
      throw new ConfigError(`${name} must be at least ${range.min}, got ${value}`);
    if (range.max !== undefined && value > range.max) throw new ConfigError(`${name} must be at most ${range.max}, got ${value}`);
    return value;
  }

  port(name: string, fallback: number): number {
    return this.int(name, fallback, { min: 0, max: 65535 });
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    throw new ConfigError(`${name} must be true or false, got "${raw}"`);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
    }
    return raw as T;
  }

  list(name: string, fallback: string[] = []): string[] {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }

  url(name: string, protocols: string[], fallback?: string): string | undefined {
    const raw = this.raw(name) ?? fallback;
    if (raw === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`${name} must be a URL, got "${raw}"`);
    }
    if (!protocols.includes(url.protocol.replace(/:$/, ""))) {
      throw new ConfigError(`${name} must be a ${protocols.join(" or ")} URL, got "${url.protocol}//..."`);
    }
    return raw;
  }
}
