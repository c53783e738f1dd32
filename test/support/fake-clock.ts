/** A clock for tests of waiting logic: it only moves when told (attempts "take" time, sleeps advance it). */
import type { WaitClock } from "../../src/engine/wait.ts";

export function fakeClock(): WaitClock & { t: number; advance(ms: number): void } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: async (ms: number) => c.advance(ms),
    advance: (ms: number) => void (c.t += ms),
  };
  return c;
}

/** An output that records what was written, as a terminal (isTTY) or as a log file. */
export function recordingOutput(isTTY: boolean): { write(s: string): boolean; isTTY: boolean; text: string } {
  const s = { isTTY, text: "", write: (x: string) => ((s.text += x), true) };
  return s;
}
