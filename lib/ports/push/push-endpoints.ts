/**
 * Where a Web Push may go. A subscription's endpoint comes from the browser through our API,
 * so from anyone: left open, it would make the notification nodes POST to any address they
 * reach (an internal service, a cloud metadata endpoint). Browsers subscribe through a handful
 * of push services; only those hosts are accepted, at registration and again when sending.
 */

/** Chrome (FCM), Firefox (Mozilla autopush), Edge (WNS) and Safari (Apple). */
export const BROWSER_PUSH_SERVICES = [
  "fcm.googleapis.com",
  "updates.push.services.mozilla.com",
  "*.notify.windows.com",
  "web.push.apple.com",
];

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** A plain-http endpoint may name only these: a push service on this machine (development, tests). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname.toLowerCase());
}

/** `host` or `*.domain` (any subdomain of it). */
const PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^\[::1\]$/;

export function isHostPattern(value: string): boolean {
  return PATTERN.test(value);
}

function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((pattern) => (pattern.startsWith("*.") ? host.endsWith(pattern.slice(1)) : host === pattern));
}

/**
 * Why an endpoint is refused, or null: https on an allowed host; plain http only to a
 * loopback host listed explicitly (a push service of one's own on this machine: tests).
 */
export function pushEndpointProblem(endpoint: string, allowedHosts: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "is not a URL";
  }
  const host = url.hostname.toLowerCase();
  if (url.username || url.password) return "must not carry credentials";
  if (!hostAllowed(host, allowedHosts)) return "is not on a known push service";
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && isLoopbackHost(host)) return null;
  return "must be an https URL";
}
