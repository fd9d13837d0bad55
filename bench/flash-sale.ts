/**
 * Flash-sale benchmarks: buyers over real HTTP (on a thread of their own) against a stack this
 * script starts, paying on the YooKassa simulator's checkout page. Prints one JSON object.
 *
 *   npm run bench:flash-sale -- [--mode embedded|distributed] [--scenario burst|open-loop|waiting-room]
 *     burst:      --tickets 500 --buyers 2000 [--cpu-profile file --profile-phase orders|payments|both]
 *     open-loop:  --rate 500 --duration 30 [--settle-timeout 120 (s)]
 *     waiting-room: --buyers 20000 --tickets 1000 [--arrival 1000 (ms)] [--room-rate auto|<n>] [--cold-tokens]
 *     [--json file]
 *
 * embedded: the quick start in this process. distributed: gateway, catalogue and sales as
 * three processes over NATS and the MongoDB protocol (the test servers: npm run infra:up).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { burst } from "./scenarios/burst";
import { openLoop } from "./scenarios/open-loop";
import { waitingRoom } from "./scenarios/waiting-room";
import { startProfile } from "./sale";
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
      "settle-timeout": { type: "string", default: "120" },
      arrival: { type: "string", default: "1000" },
      "room-rate": { type: "string", default: "auto" },
      "cold-tokens": { type: "boolean", default: false },
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
    else if (values["cpu-profile"]) {
      // The other scenarios are profiled whole (setup included).
      const profiler = await startProfile();
      try {
        result = await otherScenario();
      } finally {
        writeFileSync(values["cpu-profile"], JSON.stringify(await profiler.stop()));
      }
    } else result = await otherScenario();
  } finally {
    await stack.stop();
  }

  async function otherScenario(): Promise<{ violations: unknown[] }> {
    if (values.scenario === "open-loop")
      return openLoop(stack, {
        rate: Number(values.rate),
        durationSec: Number(values.duration),
        settleTimeoutSec: Number(values["settle-timeout"]),
      });
    if (values.scenario === "waiting-room")
      return waitingRoom(stack, {
        tickets: Number(values.tickets),
        buyers: Number(values.buyers),
        arrivalMs: Number(values.arrival),
        rate: values["room-rate"] === "auto" ? "auto" : Number(values["room-rate"]),
        warm: values["cold-tokens"] !== true,
      });
    throw new Error("--scenario must be burst, open-loop or waiting-room");
  }
  console.log(JSON.stringify(result));
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
  if (result.violations.length) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
