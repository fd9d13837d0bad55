import { periodic } from "../../../lib/app/periodic";
import { eventually } from "../../support/api-client";

describe("periodic", () => {
  test("stop waits for the round under way, and no round starts after it", async () => {
    let rounds = 0;
    let finishRound: (() => void) | null = null;
    const work = periodic(
      1,
      () => {
        rounds++;
        return new Promise<void>((resolve) => (finishRound = resolve));
      },
      (err) => {
        throw err;
      },
    );
    work.start();
    await eventually(
      async () => rounds,
      (n) => n === 1,
    );

    let stopped = false;
    const stopping = work.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    expect(rounds).toBe(1);
    finishRound!();
    await stopping;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rounds).toBe(1);
  });

  test("rounds never overlap, and a failed round does not end the schedule", async () => {
    let running = 0;
    let most = 0;
    let rounds = 0;
    const errors: unknown[] = [];
    const work = periodic(
      1,
      async () => {
        running++;
        most = Math.max(most, running);
        rounds++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        if (rounds === 1) throw new Error("first round fails");
      },
      (err) => errors.push(err),
    );
    work.start();
    await eventually(
      async () => rounds,
      (n) => n >= 5,
    );
    await work.stop();
    expect(most).toBe(1);
    expect(errors).toEqual([new Error("first round fails")]);
  });
});
