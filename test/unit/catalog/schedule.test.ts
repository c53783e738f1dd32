import { describe, expect, it } from "vitest";
import { schedule } from "../../../src/catalog/schedule.ts";

const parents: Record<string, string[]> = { a: [], b: ["a"], c: ["a"], d: ["b", "c"], e: [] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("schedule", () => {
  it("runs parents first and never more than `jobs` at once", async () => {
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const outcomes = await schedule({
      refs: ["a", "e", "b", "c", "d"],
      parentsOf: (r) => parents[r]!,
      jobs: 2,
      run: async (r) => {
        peak = Math.max(peak, ++running);
        log.push(`start ${r}`);
        await sleep(20);
        log.push(`end ${r}`);
        running--;
        return r.toUpperCase();
      },
    });
    expect(outcomes.map((o) => o.status)).toEqual(["done", "done", "done", "done", "done"]);
    expect(peak).toBe(2);
    for (const [child, ps] of Object.entries(parents)) {
      for (const p of ps) expect(log.indexOf(`end ${p}`)).toBeLessThan(log.indexOf(`start ${child}`));
    }
    // a and e are independent: they ran side by side.
    expect(log.slice(0, 2).sort()).toEqual(["start a", "start e"]);
  });

  it("skips the descendants of a failed node and goes on with the rest", async () => {
    const ran: string[] = [];
    const outcomes = await schedule({
      refs: ["a", "e", "b", "c", "d"],
      parentsOf: (r) => parents[r]!,
      jobs: 3,
      run: async (r) => {
        ran.push(r);
        if (r === "b") throw new Error("boom");
        return r;
      },
    });
    const by = Object.fromEntries(outcomes.map((o) => [o.ref, o]));
    expect(by.b!.status).toBe("failed");
    expect(by.d).toEqual({ ref: "d", status: "blocked", by: "b" });
    expect(by.c!.status).toBe("done");
    expect(by.e!.status).toBe("done");
    expect(ran).not.toContain("d");
  });

  it("treats parents outside the selection as present", async () => {
    const outcomes = await schedule({ refs: ["d"], parentsOf: (r) => parents[r]!, jobs: 1, run: async (r) => r });
    expect(outcomes).toEqual([{ ref: "d", status: "done", value: "d" }]);
  });
});
