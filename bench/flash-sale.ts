/**
 * Flash-sale benchmarks: buyers over real HTTP (on a thread of their own) against a stack this
 * script starts, paying on the YooKassa simulator's checkout page. Prints one JSON object.
 *
 *   npm run bench:flash-sale -- [--mode embedded|distributed] [--scenario burst|open-loop]
 *     burst:      --tickets 500 --buyers 2000 [--cpu-profile file --profile-phase orders|payments|both]
 *     open-loop:  --rate 500 --duration 30
 *     [--json file]
 *
 * embedded: the quick start in this process. distributed: gateway, catalogue and sales as
 * three processes over NATS and the MongoDB protocol (the test servers: npm run infra:up).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { burst } from "./scenarios/burst";
import { openLoop } from "./scenarios/open-loop";
import { startStack } from "./stack";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: "string", default: "embedded" },
      scenario: { type: "string", default: "burst" },
      tickets: { type: "string", default: "500" },
      buyers: { type: "string", default: "2000" },
      rate: { type: "string", default: "500" },
      duration: { type: "string", default: "30" },
      json: { type: "string" },
      "cpu-profile": { type: "string" },
      "profile-phase": { type: "string", default: "both" },
    },
  });
  const mode = values.mode;
  if (mode !== "embedded" && mode !== "distributed") throw new Error("--mode must be embedded or distributed");
  const phase = values["profile-phase"];
  if (phase !== "orders" && phase !== "payments" && phase !== "both")
    throw new Error("--profile-phase must be orders, payments or both");
  const stack = await startStack(mode);
  let result: { violations: unknown[] };
  try {
    if (values.scenario === "burst")
      result = await burst(stack, {
        tickets: Number(values.tickets),
        buyers: Number(values.buyers),
        cpuProfile: values["cpu-profile"],
        profilePhase: phase,
      });
    else if (values.scenario === "open-loop")
      result = await openLoop(stack, { rate: Number(values.rate), durationSec: Number(values.duration) });
    else throw new Error("--scenario must be burst or open-loop");
  } finally {
    await stack.stop();
  }
  console.log(JSON.stringify(result));
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
  if (result.violations.length) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
