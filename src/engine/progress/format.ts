/** Text shared by the progress renderers: step titles, durations, the failure block. */
import { type BuildState, type Step, isCancellation, labelOf } from "./state.ts";

/** Step names can be whole shell scripts; one line of output shows this much of them. */
export const MAX_TITLE = 160;

export function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 1 ? chars.slice(0, width).join("") : `${chars.slice(0, width - 1).join("")}…`;
}

/** `[linux/amd64] #7 [build 2/3] COPY hello.txt /hello.txt` (no platform prefix for shared steps). */
export function stepTitle(state: BuildState, step: Step, width = MAX_TITLE): string {
  const platform = state.platformOf(step);
  const prefix = platform ? `[${platform}] ` : "";
  return truncate(`${prefix}#${step.number} ${labelOf(step.name)}`, width);
}

/** How a finished step ended: `CACHED`, `ERROR: why`, `CANCELED` or its duration. */
export function outcome(step: Step): string {
  if (step.error !== undefined) return isCancellation(step.error) ? "CANCELED" : `ERROR: ${shortError(step.error)}`;
  if (step.cached) return "CACHED";
  return seconds((step.completed ?? 0) - (step.started ?? step.completed ?? 0));
}

/**
 * BuildKit repeats the whole command in a RUN error
 * (`process "/bin/sh -c ..." did not complete successfully: exit code: 3`);
 * the step title already shows it, so keep only the reason.
 */
export function shortError(error: string): string {
  const m = /^process ".*" (did not complete successfully: .*)$/s.exec(error);
  return (m?.[1] ?? error).replace(/\s*\n\s*/g, " ");
}

/** One line per platform and a total, from the engine's own timestamps (stable for a given stream). */
export function summaryLines(state: BuildState): string[] {
  const byPlatform = new Map<string, { steps: number; cached: number }>();
  let steps = 0;
  let cached = 0;
  for (const step of state.finished()) {
    steps++;
    if (step.cached) cached++;
    const platform = state.platformOf(step);
    if (!platform) continue;
    const entry = byPlatform.get(platform) ?? { steps: 0, cached: 0 };
    entry.steps++;
    if (step.cached) entry.cached++;
    byPlatform.set(platform, entry);
  }
  const span = state.span();
  const lines = [...byPlatform].map(([p, e]) => `  ${p}: ${e.steps} steps, ${e.cached} cached`);
  lines.unshift(`${steps} steps, ${cached} cached${span === undefined ? "" : `, ${seconds(span)}`}`);
  return lines;
}

/**
 * Which step failed, on which platform, why, and its last log lines.
 * The first line stands alone (it is what an error message should say).
 */
export function failureBlock(state: BuildState): string | undefined {
  const step = state.failedStep();
  if (!step) return undefined;
  const lines = [`${stepTitle(state, step)} failed: ${shortError(step.error ?? "")}`];
  const logs = state.logsOf(step);
  if (logs.length > 0) {
    lines.push(`last ${logs.length} log line${logs.length === 1 ? "" : "s"} of #${step.number}:`);
    for (const l of logs) lines.push(`  ${l}`);
  }
  return lines.join("\n");
}
