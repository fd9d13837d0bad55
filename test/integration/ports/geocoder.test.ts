/** Contract test: the real Yandex Geocoder client against the simulator, over a real socket. */
import { GeocoderError, type GeocoderErrorCode } from "../../../lib/ports/geocoder/geocoder.port";
import { startGeocoderSimulator, type GeocoderSimulator } from "../../../lib/ports/geocoder/geocoder.simulator";
import { YandexGeocoderClient, type YandexGeocoderOptions } from "../../../lib/ports/geocoder/yandex-geocoder.client";
import { rejection } from "./rejection";

const API_KEY = "geo-key-5f0c1d2e-contract";

let sim: GeocoderSimulator;
let strictSim: GeocoderSimulator;

const clientFor = (target: GeocoderSimulator, options: Partial<YandexGeocoderOptions> = {}) =>
  new YandexGeocoderClient({ baseUrl: target.url, apiKey: API_KEY, timeoutMs: 1000, retries: 2, backoffMs: 5, ...options });

const rejected = (promise: Promise<unknown>, code: GeocoderErrorCode, apiKey = API_KEY) =>
  rejection(promise, GeocoderError, code, apiKey);

beforeAll(async () => {
  sim = await startGeocoderSimulator({
    apiKey: API_KEY,
    places: { "Тестовая улица, 1": { lat: 61.25, lon: 73.4, formatted: "Россия, Сургут, Тестовая улица, 1" } },
  });
  strictSim = await startGeocoderSimulator({ apiKey: API_KEY, strict: true });
});

afterEach(() => {
  sim.setFault(null);
  strictSim.setFault(null);
});

afterAll(async () => {
  await Promise.all([sim.close(), strictSim.close()]);
});

describe("found", () => {
  it("returns the coordinates and address of a known venue", async () => {
    const result = await clientFor(sim).geocode("ВТБ Арена");
    expect(result).toEqual({
      lat: 55.7915,
      lon: 37.5596,
      formatted: "Россия, Москва, Ленинградский проспект, 36",
      precision: "exact",
      kind: "house",
    });
  });

  it("reads Point.pos as longitude first, then latitude", async () => {
    // Surgut: latitude 61, longitude 73, so a swap would put the point in the Indian Ocean.
    const result = await clientFor(sim).geocode("Тестовая улица, 1");
    expect(result).toMatchObject({ lat: 61.25, lon: 73.4 });
    // St Petersburg's latitude (~60) is twice its longitude (~30).
    const spb = await clientFor(sim).geocode("Газпром Арена");
    expect(spb?.lat).toBeCloseTo(59.973, 3);
    expect(spb?.lon).toBeCloseTo(30.2205, 3);
  });

  it("finds a venue named inside a longer address", async () => {
    const result = await clientFor(sim).geocode("г. Казань, «Ак Барс Арена»");
    expect(result?.formatted).toContain("Хусаина Ямашева, 115А");
  });

  it("makes up a stable point in Russia for an unknown address unless strict", async () => {
    const client = clientFor(sim);
    const first = await client.geocode("Тверь, улица Советская, 5");
    expect(first).not.toBeNull();
    expect(await client.geocode("Тверь, улица Советская, 5")).toEqual(first);
    expect(first?.lat).toBeGreaterThanOrEqual(54.5);
    expect(first?.lat).toBeLessThanOrEqual(60);
    expect(first?.lon).toBeGreaterThanOrEqual(38);
    expect(first?.lon).toBeLessThanOrEqual(60);
  });
});

describe("not found", () => {
  it("returns null when the service finds nothing", async () => {
    await expect(clientFor(strictSim).geocode("Нигдеград, улица Несуществующая, 0")).resolves.toBeNull();
  });

  it("rejects an empty address without asking the service", async () => {
    const before = sim.requests;
    await rejected(clientFor(sim).geocode("   "), "GEOCODER_INVALID_REQUEST");
    expect(sim.requests).toBe(before);
  });
});

describe("errors", () => {
  it("reports a refused key as GEOCODER_UNAUTHORIZED, once, without the key", async () => {
    const wrongKey = "wrong-key-7a7a7a7a";
    const before = sim.requests;
    const error = await rejected(clientFor(sim, { apiKey: wrongKey }).geocode("Лужники"), "GEOCODER_UNAUTHORIZED", wrongKey);
    expect(error.status).toBe(403);
    expect(error.message).toContain("Invalid api key");
    expect(sim.requests - before).toBe(1);
  });

  it("retries a 500 and returns the answer that follows", async () => {
    sim.setFault({ status: 500, times: 2 });
    const before = sim.requests;
    await expect(clientFor(sim).geocode("Лужники")).resolves.toMatchObject({ lat: 55.7158, lon: 37.5537 });
    expect(sim.requests - before).toBe(3);
  });

  it("gives up with GEOCODER_UNAVAILABLE when 5xx persists past the retries", async () => {
    sim.setFault({ status: 503 });
    const before = sim.requests;
    const error = await rejected(clientFor(sim).geocode("Лужники"), "GEOCODER_UNAVAILABLE");
    expect(error.status).toBe(503);
    expect(error.retryable).toBe(true);
    expect(sim.requests - before).toBe(3);
  });

  it("reports 429 as GEOCODER_RATE_LIMITED with Retry-After, without retrying", async () => {
    sim.setFault({ status: 429, retryAfterSeconds: 30 });
    const before = sim.requests;
    const error = await rejected(clientFor(sim).geocode("Лужники"), "GEOCODER_RATE_LIMITED");
    expect(error).toMatchObject({ retryAfterSeconds: 30, retryable: true });
    expect(sim.requests - before).toBe(1);
  });

  it("times out quickly with GEOCODER_UNAVAILABLE", async () => {
    sim.setFault({ delayMs: 5000 });
    const started = Date.now();
    const error = await rejected(clientFor(sim, { timeoutMs: 150, retries: 1 }).geocode("Лужники"), "GEOCODER_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error.message).toContain("150 ms");
  });

  it("reports a truncated body as GEOCODER_BAD_RESPONSE", async () => {
    sim.setFault({ malformed: true, times: 1 });
    await rejected(clientFor(sim).geocode("Лужники"), "GEOCODER_BAD_RESPONSE");
  });

  it("reports an unreachable service as GEOCODER_UNAVAILABLE without the key", async () => {
    const gone = await startGeocoderSimulator();
    await gone.close();
    const error = await rejected(clientFor(gone, { retries: 1 }).geocode("Лужники"), "GEOCODER_UNAVAILABLE");
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});
