/**
 * Plain progress for logs without a terminal (CI): one line per finished step,
 * no ANSI, no redraws, no step output (kept in memory for the failure block).
 * A step that runs for minutes would leave the log silent, and CI runners kill
 * jobs that print nothing for a while: after `heartbeatMs` without a line, a
 * "still running" line names the oldest running step.
 */
import { outcome, seconds, stepTitle, summaryLines } from "./format.ts";
import type { Output, Renderer } from "./renderer.ts";
import type { BuildState, Changes } from "./state.ts";

export interface PlainOptions {
  now?: () => number;
  /** Silence after which a "still running" line is printed (default one minute). */
  heartbeatMs?: number;
}

export class PlainRenderer implements Renderer {
  private readonly now: () => number;
  private readonly heartbeatMs: number;
  private lastWrite: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly state: BuildState,
    private readonly out: Output,
    options: PlainOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.heartbeatMs = options.heartbeatMs ?? 60_000;
    this.lastWrite = this.now();
    this.timer = setInterval(() => this.heartbeat(), Math.min(this.heartbeatMs, 5_000));
    this.timer.unref(); // never what keeps the process alive
  }

  update(changes: Changes): void {
    for (const step of changes.completed) {
      this.write(`${stepTitle(this.state, step)} ${outcome(step)}\n`);
    }
    for (const w of changes.warnings) {
      const where = w.step ? `${stepTitle(this.state, w.step)}: ` : "";
      this.write(`WARNING: ${where}${w.message}\n`);
    }
  }

  text(line: string): void {
    this.write(`${line}\n`);
  }

  done(ok: boolean): void {
    clearInterval(this.timer);
    const [total, ...platforms] = summaryLines(this.state);
    this.write(`${ok ? "done" : "failed"}: ${total}\n${platforms.map((l) => `${l}\n`).join("")}`);
  }

  private heartbeat(): void {
    const now = this.now();
    if (now - this.lastWrite < this.heartbeatMs) return;
    const running = this.state.running().sort((a, b) => (a.runningSince ?? now) - (b.runningSince ?? now));
    const oldest = running[0];
    if (!oldest) return;
    const more = running.length > 1 ? ` (+${running.length - 1} more)` : "";
    this.write(`still running: ${stepTitle(this.state, oldest)} ${seconds(now - (oldest.runningSince ?? now))}${more}\n`);
  }

  private write(text: string): void {
    this.lastWrite = this.now();
    this.out.write(text);
  }
}
