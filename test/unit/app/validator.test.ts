import type { ActionHandler, ActionSchema, Context, Errors } from "moleculer";
import { ValidatorMiddleware } from "../../../lib/app/validator.middleware";

const guard = (params: ActionSchema["params"]) =>
  (ValidatorMiddleware.localAction as (next: ActionHandler, action: ActionSchema) => ActionHandler)(
    (() => "ran") as unknown as ActionHandler,
    { name: "things.list", params } as ActionSchema,
  );

async function problems(params: ActionSchema["params"], sent: Record<string, unknown>) {
  const err = (await Promise.resolve(guard(params).call(undefined as never, { params: sent } as Context)).then(
    () => null,
    (e: Errors.ValidationError) => e,
  )) as Errors.ValidationError | null;
  return (err?.data ?? []) as Array<{ type: string; field: string; message: string }>;
}

describe("validation refusals", () => {
  const schema = {
    sort: { type: "enum", values: ["name", "-name", "createdAt"] },
    kind: { type: "enum", values: ["seated", "ga"] },
  };

  it("an enum refusal lists the allowed values and quotes a short plain value", async () => {
    expect(await problems(schema, { sort: "vip", kind: "ga" })).toEqual([
      {
        type: "enumValue",
        field: "sort",
        message: "The 'sort' field value 'vip' is not one of the allowed values: name, -name, createdAt.",
      },
    ]);
  });

  it("never quotes a value that is long or not a plain word", async () => {
    const [problem] = await problems(schema, { sort: "<script>x</script>", kind: "ga" });
    expect(problem.message).toBe("The 'sort' field is not one of the allowed values: name, -name, createdAt.");
    const [long] = await problems(schema, { sort: "createdAtX", kind: "ga" });
    expect(long.message).not.toContain("createdAtX");
  });

  it("reports every problem of a body in one answer", async () => {
    expect((await problems(schema, { sort: "x", kind: "y" })).map((p) => p.field)).toEqual(["sort", "kind"]);
  });
});
