/**
 * Waiting for a busy engine: probe again until it answers or a bound is
 * reached, saying so on the way. On a terminal one line counts up in place;
 * in a plain log a line appears at the start and then every `everyMs`, so a
 * CI log shows that kiln is waiting, and for what, without filling up.
 */
export interface WaitClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: WaitClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export interface WaitOptions {
  /** Give up (return the last, still busy, result) once this much time has passed since the first attempt. */
  boundMs: number;
  /** Pause between attempts. */
  intervalMs?: number;
  /** Called after each busy attempt that will be retried, with the time waited so far. */
  onBusy?: (waitedMs: number) => void;
  clock?: WaitClock;
}

export interface WaitOutcome<T> {
  result: T;
  /** Time from the first attempt to the last result. */
  waitedMs: number;
  /** How many attempts were made. */
  attempts: number;
  /** The last result is still busy: the bound was reached. */
  gaveUp: boolean;
}

/** Runs `attempt` until `isBusy` says no or the bound is reached. */
export async function waitWhileBusy<T>(attempt: () => Promise<T>, isBusy: (r: T) => boolean, opts: WaitOptions): Promise<WaitOutcome<T>> {
  const clock = opts.clock ?? realClock;
  const started = clock.now();
  let attempts = 0;
  for (;;) {
    const result = await attempt();
    attempts++;
    const waitedMs = clock.now() - started;
    if (!isBusy(result)) return { result, waitedMs, attempts, gaveUp: false };
    if (waitedMs >= opts.boundMs) return { result, waitedMs, attempts, gaveUp: true };
    opts.onBusy?.(waitedMs);
    await clock.sleep(Math.min(opts.intervalMs ?? 1000, Math.max(0, opts.boundMs - waitedMs)));
  }
}

export interface NoticeOutput {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** The `waiting for X to answer (busy N s)` line, for a terminal or a plain log. */
export class BusyNotice {
  private shown = false;
  private lastPlainMs = -Infinity;

  constructor(
    private readonly out: NoticeOutput,
    private readonly what: string,
    private readonly everyMs = 10_000,
  ) {}

  static line(what: string, waitedMs: number): string {
    return `waiting for ${what} to answer (busy ${Math.round(waitedMs / 1000)} s)`;
  }

  update(waitedMs: number): void {
    const line = `kiln: ${BusyNotice.line(this.what, waitedMs)}`;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line}`);
    } else if (waitedMs - this.lastPlainMs >= this.everyMs) {
      this.out.write(`${line}\n`);
      this.lastPlainMs = waitedMs;
    }
    this.shown = true;
  }

  /** Ends the notice; when the engine answered, one line saying after how long (giving up is the caller's error to tell). */
  finish(answered: boolean, waitedMs: number): void {
    if (!this.shown) return;
    if (this.out.isTTY) this.out.write("\n");
    if (answered) this.out.write(`kiln: ${this.what} answered after ${Math.round(waitedMs / 1000)} s\n`);
  }
}

/** waitWhileBusy with the `waiting for <what> to answer` notice on `out` (default stderr). */
export async function waitSaying<T>(
  what: string,
  attempt: () => Promise<T>,
  isBusy: (r: T) => boolean,
  opts: Omit<WaitOptions, "onBusy"> & { out?: NoticeOutput },
): Promise<WaitOutcome<T>> {
  let notice: BusyNotice | undefined;
  const waited = await waitWhileBusy(attempt, isBusy, {
    ...opts,
    onBusy: (ms) => {
      notice ??= new BusyNotice(opts.out ?? process.stderr, what);
      notice.update(ms);
    },
  });
  notice?.finish(!waited.gaveUp, waited.waitedMs);
  return waited;
}
