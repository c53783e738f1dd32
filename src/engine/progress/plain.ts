/**
 * Plain progress for logs without a terminal (CI): one line per finished step,
 * no ANSI, no redraws, no step output (kept in memory for the failure block).
 */
import { outcome, stepTitle, summaryLines } from "./format.ts";
import type { Output, Renderer } from "./renderer.ts";
import type { BuildState, Changes } from "./state.ts";

export class PlainRenderer implements Renderer {
  constructor(
    private readonly state: BuildState,
    private readonly out: Output,
  ) {}

  update(changes: Changes): void {
    for (const step of changes.completed) {
      this.out.write(`${stepTitle(this.state, step)} ${outcome(step)}\n`);
    }
    for (const w of changes.warnings) {
      const where = w.step ? `${stepTitle(this.state, w.step)}: ` : "";
      this.out.write(`WARNING: ${where}${w.message}\n`);
    }
  }

  text(line: string): void {
    this.out.write(`${line}\n`);
  }

  done(ok: boolean): void {
    const [total, ...platforms] = summaryLines(this.state);
    this.out.write(`${ok ? "done" : "failed"}: ${total}\n${platforms.map((l) => `${l}\n`).join("")}`);
  }
}
