/**
 * The state of one build, folded from BuildKit SolveStatus records
 * (github.com/moby/buildkit/client.SolveStatus as printed by `--progress=rawjson`):
 * vertexes (steps), statuses (sub-progress of a step), logs (base64 output of
 * a step) and warnings. Unknown fields are ignored; malformed entries skipped.
 */
import { StringDecoder } from "node:string_decoder";

/** Log lines kept per step, for the failure summary. */
export const KEPT_LOG_LINES = 20;
/** Longer log lines are cut; a step's output is not the place for megabyte lines. */
const MAX_LOG_LINE = 500;

export interface Step {
  digest: string;
  /** 1-based number in order of first appearance, like BuildKit's own `#N`. */
  number: number;
  /** Name as sent by BuildKit, e.g. `[linux/arm64 build 2/5] RUN make`. */
  name: string;
  inputs: string[];
  /** Engine timestamps in ms since the epoch. */
  started?: number;
  completed?: number;
  cached: boolean;
  error?: string;
  /** Local clock when this step was last seen starting (for live elapsed times). */
  runningSince?: number;
  /** Latest sub-progress, e.g. "transferring context" 2.1 MB. */
  status?: { name: string; current: number; total?: number };
  /** The last KEPT_LOG_LINES complete lines of output (stdout and stderr in order). */
  logs: string[];
  /** Whether completion has already been reported to the renderer. */
  reported: boolean;
}

export interface Warning {
  step?: Step;
  message: string;
}

/** What changed by one record, in stream order. */
export interface Changes {
  completed: Step[];
  warnings: Warning[];
}

interface PartialLine {
  decoder: StringDecoder;
  text: string;
}

export class BuildState {
  readonly steps = new Map<string, Step>();
  readonly warnings: Warning[] = [];
  private readonly partial = new Map<string, PartialLine>();
  private readonly platformCache = new Map<string, string | undefined>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Applies one SolveStatus record. */
  apply(record: unknown): Changes {
    const changes: Changes = { completed: [], warnings: [] };
    if (!isObject(record)) return changes;
    for (const v of arrayOf(record.vertexes)) this.applyVertex(v, changes);
    for (const s of arrayOf(record.statuses)) this.applyStatus(s);
    for (const l of arrayOf(record.logs)) this.applyLog(l);
    for (const w of arrayOf(record.warnings)) this.applyWarning(w, changes);
    return changes;
  }

  /** The platform a step builds for: from its name, else inherited from its inputs. */
  platformOf(step: Step): string | undefined {
    if (this.platformCache.has(step.digest)) return this.platformCache.get(step.digest);
    this.platformCache.set(step.digest, undefined); // guards against cycles
    let platform = platformInName(step.name);
    for (const input of step.inputs) {
      if (platform) break;
      const parent = this.steps.get(input);
      if (parent) platform = this.platformOf(parent);
    }
    // Only remember definite answers: inputs may become known later.
    if (platform) this.platformCache.set(step.digest, platform);
    else this.platformCache.delete(step.digest);
    return platform;
  }

  /** Steps that finished (ran, were cached, or failed). */
  finished(): Step[] {
    return [...this.steps.values()].filter((s) => s.completed !== undefined);
  }

  running(): Step[] {
    return [...this.steps.values()].filter((s) => s.started !== undefined && s.completed === undefined);
  }

  /** The step that caused the failure: the first error that is not a mere cancellation. */
  failedStep(): Step | undefined {
    const failed = [...this.steps.values()].filter((s) => s.error !== undefined);
    failed.sort((a, b) => (a.completed ?? Infinity) - (b.completed ?? Infinity) || a.number - b.number);
    return failed.find((s) => !isCancellation(s.error ?? "")) ?? failed[0];
  }

  /** The step's last log lines, including an unterminated last line. */
  logsOf(step: Step): string[] {
    const tails = [...this.partial.entries()]
      .filter(([key, p]) => key.startsWith(`${step.digest} `) && p.text !== "")
      .map(([, p]) => p.text);
    return [...step.logs, ...tails].slice(-KEPT_LOG_LINES);
  }

  /** Engine time from the first start to the last completion, in ms. */
  span(): number | undefined {
    let first = Infinity;
    let last = -Infinity;
    for (const s of this.steps.values()) {
      if (s.started !== undefined) first = Math.min(first, s.started);
      if (s.completed !== undefined) last = Math.max(last, s.completed);
    }
    return last >= first ? last - first : undefined;
  }

  private applyVertex(v: Record<string, unknown>, changes: Changes): void {
    if (typeof v.digest !== "string") return;
    let step = this.steps.get(v.digest);
    if (!step) {
      step = {
        digest: v.digest,
        number: this.steps.size + 1,
        name: typeof v.name === "string" ? v.name : v.digest,
        inputs: [],
        cached: false,
        logs: [],
        reported: false,
      };
      this.steps.set(v.digest, step);
    }
    if (typeof v.name === "string") step.name = v.name;
    if (Array.isArray(v.inputs)) step.inputs = v.inputs.filter((i): i is string => typeof i === "string");
    if (v.cached === true) step.cached = true;
    if (typeof v.error === "string" && v.error !== "") step.error = v.error;
    const started = time(v.started);
    const completed = time(v.completed);
    if (started !== undefined) {
      // A record without `completed` means the step (re)started.
      if (step.started === undefined || completed === undefined) step.runningSince = this.now();
      step.started = started;
      step.completed = completed;
    } else if (completed !== undefined) {
      step.completed = completed;
    }
    if (step.completed !== undefined && !step.reported) {
      step.reported = true;
      changes.completed.push(step);
    }
  }

  private applyStatus(s: Record<string, unknown>): void {
    const step = typeof s.vertex === "string" ? this.steps.get(s.vertex) : undefined;
    if (!step) return;
    if (time(s.completed) !== undefined) {
      step.status = undefined;
      return;
    }
    step.status = {
      name: typeof s.id === "string" ? s.id : typeof s.name === "string" ? s.name : "",
      current: typeof s.current === "number" ? s.current : 0,
      total: typeof s.total === "number" && s.total > 0 ? s.total : undefined,
    };
  }

  private applyLog(l: Record<string, unknown>): void {
    if (typeof l.vertex !== "string" || typeof l.data !== "string") return;
    const step = this.steps.get(l.vertex);
    if (!step) return;
    const key = `${l.vertex} ${typeof l.stream === "number" ? l.stream : 1}`;
    let p = this.partial.get(key);
    if (!p) {
      p = { decoder: new StringDecoder("utf8"), text: "" };
      this.partial.set(key, p);
    }
    const chunks = (p.text + p.decoder.write(Buffer.from(l.data, "base64"))).split("\n");
    p.text = chunks.pop() ?? "";
    for (const chunk of chunks) pushLine(step.logs, chunk);
  }

  private applyWarning(w: Record<string, unknown>, changes: Changes): void {
    const message = typeof w.short === "string" ? Buffer.from(w.short, "base64").toString("utf8").trim() : "";
    if (message === "") return;
    const warning: Warning = { message, step: typeof w.vertex === "string" ? this.steps.get(w.vertex) : undefined };
    this.warnings.push(warning);
    changes.warnings.push(warning);
  }
}

/**
 * `[linux/arm64 build 2/5]`, `[linux/arm/v7 2/3]`, `[linux/386]`: the OS starts with a letter,
 * which tells a platform from a step counter (`[2/5] RUN`). The prefix is only there
 * for multi-platform builds and only on some steps; the others inherit from their inputs.
 */
const PLATFORM_PREFIX = /^\[([a-z][a-z0-9]*\/[a-z0-9_]+(?:\/[a-z0-9.]+)?)(\]\s*| )/;

/** `[linux/arm64 build 2/5] RUN make` -> `linux/arm64`; `[build 2/5] ...` -> undefined. */
export function platformInName(name: string): string | undefined {
  return PLATFORM_PREFIX.exec(name)?.[1];
}

/** The step name without its platform: `[linux/arm64 build 2/5] RUN make` -> `[build 2/5] RUN make`. */
export function labelOf(name: string): string {
  const oneLine = name.replace(/\s*\n\s*/g, " ⏎ ").trim();
  const m = PLATFORM_PREFIX.exec(oneLine);
  if (!m) return oneLine;
  const rest = oneLine.slice(m[0].length);
  return m[2] === " " ? `[${rest}` : rest;
}

export function isCancellation(error: string): boolean {
  return /context canceled\s*$|^canceled$/i.test(error);
}

function pushLine(lines: string[], raw: string): void {
  // A carriage return redraws the line (download meters): keep what was drawn last.
  const cr = raw.replace(/\r+$/, "");
  let line = cr.slice(cr.lastIndexOf("\r") + 1);
  if (line.length > MAX_LOG_LINE) line = `${line.slice(0, MAX_LOG_LINE)}…`;
  lines.push(line);
  if (lines.length > KEPT_LOG_LINES) lines.splice(0, lines.length - KEPT_LOG_LINES);
}

function time(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const t = Date.parse(value);
  // Go's zero time ("0001-01-01T00:00:00Z") means "not set".
  return Number.isNaN(t) || t <= 0 ? undefined : t;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function arrayOf(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}
