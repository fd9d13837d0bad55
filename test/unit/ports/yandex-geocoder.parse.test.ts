import { GeocoderBadResponseError } from "../../../lib/ports/geocoder/geocoder.port";
import { parseGeocodeResponse, parsePos } from "../../../lib/ports/geocoder/yandex-geocoder.parse";

function answer(found: unknown, members: unknown[]): unknown {
  return {
    response: {
      GeoObjectCollection: {
        metaDataProperty: { GeocoderResponseMetaData: { request: "q", results: "10", found } },
        featureMember: members,
      },
    },
  };
}

function member(geoObject: Record<string, unknown>): unknown {
  return {
    GeoObject: {
      metaDataProperty: {
        GeocoderMetaData: {
          precision: "exact",
          kind: "house",
          text: "Россия, Казань",
          Address: { formatted: "Россия, Казань, 1" },
        },
      },
      Point: { pos: "49.161 55.821" },
      ...geoObject,
    },
  };
}

describe("parseGeocodeResponse", () => {
  it("reads the first member, longitude first", () => {
    expect(parseGeocodeResponse(answer("2", [member({}), member({ Point: { pos: "1 2" } })]))).toEqual({
      lat: 55.821,
      lon: 49.161,
      formatted: "Россия, Казань, 1",
      precision: "exact",
      kind: "house",
    });
  });

  it("returns null when nothing was found", () => {
    expect(parseGeocodeResponse(answer("0", []))).toBeNull();
  });

  it("falls back to GeocoderMetaData.text when Address is missing", () => {
    const result = parseGeocodeResponse(
      answer("1", [member({ metaDataProperty: { GeocoderMetaData: { text: "Россия, Казань" } } })]),
    );
    expect(result).toEqual({ lat: 55.821, lon: 49.161, formatted: "Россия, Казань" });
  });

  it.each([
    ["a body that is not an object", "oops"],
    ["no response", {}],
    ["found that is not a count", answer("many", [member({})])],
    ["featureMember that is not an array", answer("1", {} as unknown as unknown[])],
    ["a member without Point", answer("1", [member({ Point: undefined })])],
    ["no address at all", answer("1", [member({ metaDataProperty: { GeocoderMetaData: {} } })])],
    [
      "a numeric formatted address",
      answer("1", [member({ metaDataProperty: { GeocoderMetaData: { Address: { formatted: 5 } } } })]),
    ],
  ])("rejects %s", (_, body) => {
    expect(() => parseGeocodeResponse(body)).toThrow(GeocoderBadResponseError);
  });
});

describe("parsePos", () => {
  it("splits 'lon lat'", () => {
    expect(parsePos(" 30.2205   59.973 ")).toEqual({ lat: 59.973, lon: 30.2205 });
  });

  it.each(["", "30.2", "30.2 59.9 1", "x 59.9", "30.2 95", "190 10"])("rejects %j", (pos) => {
    expect(() => parsePos(pos)).toThrow(GeocoderBadResponseError);
  });
});
