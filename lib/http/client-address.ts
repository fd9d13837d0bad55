import { BlockList, isIPv6 } from "node:net";

/**
 * Who is calling, as far as an HTTP server can tell: the socket's peer or, behind our own
 * proxies, the client they forwarded. Used for the rate limit's key and for the source checks
 * of provider webhooks, so both name the same caller.
 */

function blockList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split("/");
    const type = isIPv6(address) ? "ipv6" : "ipv4";
    if (prefix) list.addSubnet(address, Number(prefix), type);
    else list.addAddress(address, type);
  }
  return list;
}

function allowed(list: BlockList, address: string): boolean {
  const plain = address.replace(/^::ffff:/, "");
  return list.check(plain, isIPv6(plain) ? "ipv6" : "ipv4");
}

/**
 * The client's address: the socket's peer or, when that peer is one of our proxies, the
 * nearest address in X-Forwarded-For that is not a proxy of ours: a client cannot forge it
 * by sending the header itself.
 */
export function clientAddressResolver(trustedProxies: string[]) {
  const proxies = blockList(trustedProxies);
  return (peer: string | undefined, forwardedFor: string | undefined): string | undefined => {
    if (!peer || !allowed(proxies, peer) || !forwardedFor) return peer?.replace(/^::ffff:/, "");
    const hops = forwardedFor
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) if (!allowed(proxies, hops[i])) return hops[i];
    return hops[0];
  };
}

/** Whether a request comes from an allowed source (see clientAddressResolver for who the source is). */
export function sourceCheck(allowlist: string[], trustedProxies: string[]) {
  const allowedSources = blockList(allowlist);
  const clientAddress = clientAddressResolver(trustedProxies);
  return (peer: string | undefined, forwardedFor: string | undefined): { source: string | undefined; allowed: boolean } => {
    const source = clientAddress(peer, forwardedFor);
    return { source, allowed: !!source && allowed(allowedSources, source) };
  };
}
