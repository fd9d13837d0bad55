import { YOOKASSA_WEBHOOK_SOURCES } from "../../../lib/config/config";
import { sourceCheck } from "../../../lib/http/client-address";

describe("payment webhook sources", () => {
  const direct = sourceCheck(YOOKASSA_WEBHOOK_SOURCES, []);
  const behindProxy = sourceCheck(YOOKASSA_WEBHOOK_SOURCES, ["10.0.0.5", "10.0.1.0/24"]);

  test("YooKassa's published ranges are allowed, anything else is not", () => {
    expect(direct("185.71.76.5", undefined).allowed).toBe(true);
    expect(direct("77.75.156.35", undefined).allowed).toBe(true);
    expect(direct("::ffff:185.71.77.30", undefined).allowed).toBe(true);
    expect(direct("2a02:5180:0:1::7", undefined).allowed).toBe(true);
    expect(direct("185.71.76.32", undefined).allowed).toBe(false);
    expect(direct("8.8.8.8", undefined).allowed).toBe(false);
    expect(direct(undefined, undefined).allowed).toBe(false);
  });

  test("X-Forwarded-For counts only when the peer is one of our proxies", () => {
    // A client sending the header itself gains nothing: its own address is what counts.
    expect(direct("8.8.8.8", "185.71.76.5")).toEqual({ source: "8.8.8.8", allowed: false });
    expect(behindProxy("10.0.0.5", "185.71.76.5")).toEqual({ source: "185.71.76.5", allowed: true });
    // The nearest hop that is not ours is the caller; what it claims before that is ignored.
    expect(behindProxy("10.0.0.5", "185.71.76.5, 8.8.8.8, 10.0.1.7")).toEqual({ source: "8.8.8.8", allowed: false });
    expect(behindProxy("10.0.1.9", "8.8.8.8, 185.71.76.5")).toEqual({ source: "185.71.76.5", allowed: true });
  });
});
