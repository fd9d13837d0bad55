import { Errors } from "moleculer";
import { toMoleculerError } from "../../../lib/app/errors";
import { DomainError } from "../../../lib/eventlog/decider";

describe("refusals", () => {
  it("carry their type, status and data but no stack trace, through to the Moleculer error", () => {
    const refusal = new DomainError("SOLD_OUT", "category ga is sold out", 409, { categoryId: "ga" });
    expect(refusal.stack).toBe("DomainError: category ga is sold out");
    const answer = toMoleculerError(refusal) as Errors.MoleculerClientError;
    expect(answer).toBeInstanceOf(Errors.MoleculerClientError);
    expect(answer).toMatchObject({ code: 409, type: "SOLD_OUT", data: { categoryId: "ga" }, message: "category ga is sold out" });
    expect(answer.stack!.split("\n")).toHaveLength(1);
  });

  it("leave the stack traces of real faults alone", () => {
    new DomainError("SEAT_TAKEN", "taken", 409);
    expect(new Error("boom").stack!.split("\n").length).toBeGreaterThan(1);
  });
});
