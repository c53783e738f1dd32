/**
 * Live progress on a terminal: a few lines per platform, redrawn in place
 * (cursor up + erase), at most every `intervalMs`; a short summary at the end.
 */
import { seconds, summaryLines, truncate } from "./format.ts";
import type { Output, Renderer } from "./renderer.ts";
import { type BuildState, type Changes, type Step, labelOf } from "./state.ts";

export interface TtyOptions {
  now?: () => number;
  /** Redraw throttle; the view is also refreshed once a second for elapsed times. */
  intervalMs?: number;
  color?: boolean;
}

/** Running steps shown per platform; the rest is counted. */
const SHOWN_RUNNING = 3;
const SHARED = "";

const ESC = "\x1b[";

export class TtyRenderer implements Renderer {
  private drawn = 0;
  private dirty = false;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly color: boolean;
  private readonly startedAt: number;

  constructor(
    private readonly state: BuildState,
    private readonly out: Output,
    options: TtyOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? 100;
    this.color = options.color ?? !process.env.NO_COLOR;
    this.startedAt = this.now();
  }

  update(_changes: Changes): void {
    this.dirty = true;
    this.schedule();
  }

  text(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    this.dirty = true;
    this.schedule();
  }

  done(ok: boolean): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
    const [total, ...platforms] = summaryLines(this.state);
    const head = ok ? this.paint("32", `✔ built: ${total}`) : this.paint("31", `✘ failed: ${total}`);
    this.out.write(`${head}\n${platforms.map((l) => `${l}\n`).join("")}`);
  }

  /** The lines of the live view. */
  frame(): string[] {
    const width = Math.max(20, (this.out.columns ?? 80) - 1);
    const finished = this.state.finished();
    const cached = finished.filter((s) => s.cached).length;
    const lines = [
      `[+] Building ${seconds(this.now() - this.startedAt)}  ${finished.length} done, ${cached} cached`,
    ];
    for (const [platform, steps] of this.groups()) {
      const done = steps.filter((s) => s.completed !== undefined);
      const running = steps
        .filter((s) => s.started !== undefined && s.completed === undefined)
        .sort((a, b) => (a.runningSince ?? 0) - (b.runningSince ?? 0) || a.number - b.number);
      if (platform === SHARED) {
        if (running.length === 0) continue;
      } else {
        const counts = `${done.length} done, ${done.filter((s) => s.cached).length} cached`;
        lines.push(truncate(` ${platform}  ${counts}${running.length ? `, ${running.length} running` : ""}`, width));
      }
      for (const step of running.slice(0, SHOWN_RUNNING)) lines.push(this.runningLine(step, width));
      if (running.length > SHOWN_RUNNING) lines.push(`   … ${running.length - SHOWN_RUNNING} more running`);
      const talking = running.find((s) => this.state.logsOf(s).length > 0);
      const last = talking ? this.state.logsOf(talking).at(-1) : undefined;
      if (last !== undefined) lines.push(this.paint("2", truncate(`     │ ${last}`, width)));
    }
    return lines;
  }

  /** Draws the current frame over the previous one. */
  render(): void {
    const lines = this.frame();
    let chunk = this.drawn > 0 ? `${ESC}${this.drawn}A\r` : "";
    for (const line of lines) chunk += `${ESC}2K${line}\n`;
    chunk += `${ESC}J`;
    this.out.write(chunk);
    this.drawn = lines.length;
    this.dirty = false;
    this.lastDraw = this.now();
  }

  private runningLine(step: Step, width: number): string {
    const elapsed = seconds(this.now() - (step.runningSince ?? this.now()));
    const status = step.status ? `  ${statusText(step.status)}` : "";
    const tail = `${status}  ${elapsed}`;
    const room = Math.max(10, width - 5 - [...tail].length);
    return `   ▸ ${truncate(labelOf(step.name), room)}${tail}`;
  }

  /** Steps by platform in order of first appearance; steps of no platform under SHARED. */
  private groups(): Map<string, Step[]> {
    const groups = new Map<string, Step[]>([[SHARED, []]]);
    for (const step of this.state.steps.values()) {
      const platform = this.state.platformOf(step) ?? SHARED;
      const list = groups.get(platform) ?? [];
      list.push(step);
      groups.set(platform, list);
    }
    return groups;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    const stale = this.now() - this.lastDraw >= 1000 && this.state.running().length > 0;
    if (this.dirty || stale) this.render();
  }

  private clear(): void {
    if (this.drawn === 0) return;
    this.out.write(`${ESC}${this.drawn}A\r${ESC}J`);
    this.drawn = 0;
  }

  private paint(code: string, text: string): string {
    return this.color ? `${ESC}${code}m${text}${ESC}0m` : text;
  }
}

function statusText(s: { name: string; current: number; total?: number }): string {
  const amount = s.total ? `${bytes(s.current)}/${bytes(s.total)}` : s.current > 0 ? bytes(s.current) : "";
  return [s.name.replace(/:$/, ""), amount].filter(Boolean).join(" ");
}

function bytes(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)}kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)}MB`;
  return `${(n / 1024 ** 3).toFixed(2)}GB`;
}
