import { describe, expect, it } from "vitest";
import { fakeClock, recordingOutput as sink } from "../../test/support/fake-clock.ts";
import { BusyNotice, waitSaying, waitWhileBusy } from "./wait.ts";

describe("waitWhileBusy", () => {
  it("returns the first answer at once, without waiting or saying anything", async () => {
    const clock = fakeClock();
    let busyCalls = 0;
    const r = await waitWhileBusy(async () => "answers", (x) => x === "busy", { boundMs: 60_000, clock, onBusy: () => busyCalls++ });
    expect(r).toEqual({ result: "answers", waitedMs: 0, attempts: 1, gaveUp: false });
    expect(busyCalls).toBe(0);
  });

  it("probes again while busy and stops at the first answer", async () => {
    const clock = fakeClock();
    const answers = ["busy", "busy", "busy", "answers"];
    const seen: number[] = [];
    const r = await waitWhileBusy(
      async () => {
        clock.advance(5000); // each probe runs into its 5 s timeout
        return answers.shift()!;
      },
      (x) => x === "busy",
      { boundMs: 60_000, intervalMs: 1000, clock, onBusy: (ms) => seen.push(ms) },
    );
    expect(r).toEqual({ result: "answers", waitedMs: 23_000, attempts: 4, gaveUp: false });
    expect(seen).toEqual([5000, 11_000, 17_000]);
  });

  it("gives up once the bound has passed, returning the last busy result", async () => {
    const clock = fakeClock();
    let attempts = 0;
    const r = await waitWhileBusy(
      async () => {
        attempts++;
        clock.advance(5000);
        return "busy";
      },
      (x) => x === "busy",
      { boundMs: 20_000, intervalMs: 1000, clock },
    );
    expect(r.gaveUp).toBe(true);
    expect(r.result).toBe("busy");
    expect(r.waitedMs).toBeGreaterThanOrEqual(20_000);
    expect(attempts).toBe(4); // 5, 11, 17, 23 s
  });

  it("does not wait at all with a bound of 0", async () => {
    const r = await waitWhileBusy(async () => "busy", () => true, { boundMs: 0, clock: fakeClock() });
    expect(r).toMatchObject({ attempts: 1, gaveUp: true });
  });
});

describe("BusyNotice", () => {
  it("prints a line at the start and then every 10 s in a plain log", () => {
    const out = sink(false);
    const n = new BusyNotice(out, "the docker daemon");
    for (const ms of [5000, 11_000, 17_000, 23_000]) n.update(ms);
    n.finish(true, 24_400);
    expect(out.text).toBe(
      [
        "kiln: waiting for the docker daemon to answer (busy 5 s)",
        "kiln: waiting for the docker daemon to answer (busy 17 s)",
        "kiln: the docker daemon answered after 24 s",
        "",
      ].join("\n"),
    );
  });

  it("counts up in place on a terminal, then ends the line", () => {
    const out = sink(true);
    const n = new BusyNotice(out, "buildkitd at tcp://bk:1234");
    n.update(5000);
    n.update(12_000);
    n.finish(false, 12_000);
    expect(out.text).toBe("\r\x1b[2Kkiln: waiting for buildkitd at tcp://bk:1234 to answer (busy 5 s)\r\x1b[2Kkiln: waiting for buildkitd at tcp://bk:1234 to answer (busy 12 s)\n");
  });

  it("says nothing when there was no wait", () => {
    const out = sink(false);
    new BusyNotice(out, "the docker daemon").finish(true, 0);
    expect(out.text).toBe("");
  });
});

describe("waitSaying", () => {
  it("shows the notice only while the engine is busy", async () => {
    const clock = fakeClock();
    const out = sink(false);
    const answers = [true, false];
    const r = await waitSaying("the docker daemon", async () => (clock.advance(12_000), answers.shift()!), (busy) => busy, { boundMs: 300_000, clock, out });
    expect(r).toMatchObject({ gaveUp: false, attempts: 2 });
    expect(out.text).toBe("kiln: waiting for the docker daemon to answer (busy 12 s)\nkiln: the docker daemon answered after 25 s\n");
  });
});
