import { Errors } from "moleculer";
import { toMoleculerError } from "../../lib/app/errors";
import { clientError } from "../../services/api/api.service";
import { holdLapsed } from "../../services/inventory/inventory.decider";

describe("what the gateway tells a client when part of the cluster does not answer", () => {
  test.each([
    ["a nested call's service is gone", new Errors.ServiceNotFoundError({ action: "inventory.hold", nodeID: "n1" })],
    ["a call timed out", new Errors.RequestTimeoutError({ action: "inventory.hold", nodeID: "n1" })],
    [
      "a nested call skipped: the request's deadline had passed",
      new Errors.RequestSkippedError({ action: "inventory.hold", nodeID: "n1" }),
    ],
  ])("%s: one retryable 503 that names no internal action", (_, err) => {
    const answer = clientError(err, "orders.create");
    expect(answer).toBeInstanceOf(Errors.MoleculerRetryableError);
    expect([answer.code, answer.type]).toEqual([503, "SERVICE_UNAVAILABLE"]);
    expect(answer.message).not.toMatch(/inventory|n1/);
  });

  test("the route's own unpublished action stays a 404; a domain refusal passes as it is", () => {
    const own = new Errors.ServiceNotFoundError({ action: "orders.create", nodeID: "n1" });
    expect(clientError(own, "orders.create")).toBe(own);
    const soldOut = new Errors.MoleculerClientError("sold out", 409, "SOLD_OUT");
    expect(clientError(soldOut, "orders.create")).toBe(soldOut);
  });

  test("a domain refusal that says 'send it again' (503 HOLD_EXPIRED) reaches the client as itself, retryable", () => {
    const answer = toMoleculerError(holdLapsed()) as Errors.MoleculerError;
    expect(answer).toBeInstanceOf(Errors.MoleculerRetryableError);
    expect([answer.code, answer.type]).toEqual([503, "HOLD_EXPIRED"]);
    expect(clientError(answer, "orders.create")).toBe(answer);
  });
});
