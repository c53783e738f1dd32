/** Judging a finished command against what a test expects of it: exit code, strings in its output. */
import type { CompletedRun } from "./docker.ts";

export interface Expected {
  exitCode: number;
  outputContains: string[];
  outputExcludes?: string[];
  timeoutMs: number;
}

export interface Verdict {
  ok: boolean;
  message: string;
  /** The last lines of the output, shown under a failure. */
  tail: string[];
}

export function judgeRun(r: CompletedRun, e: Expected): Verdict {
  const tail = r.output.trim().split("\n").slice(-10);
  const missing = e.outputContains.filter((s) => !r.output.includes(s));
  const unwanted = (e.outputExcludes ?? []).filter((s) => r.output.includes(s));
  const quoted = (list: string[]) => list.map((m) => JSON.stringify(m)).join(", ");
  if (r.timedOut) return { ok: false, message: `timed out after ${Math.round(e.timeoutMs / 1000)}s`, tail };
  if (r.code !== e.exitCode) return { ok: false, message: `exit code ${r.code}, expected ${e.exitCode}`, tail };
  if (missing.length) return { ok: false, message: `output lacks ${quoted(missing)}`, tail };
  if (unwanted.length) return { ok: false, message: `output has ${quoted(unwanted)}, which it must not`, tail };
  const checked = e.outputContains.length + (e.outputExcludes?.length ?? 0);
  return { ok: true, message: `exit ${r.code}${checked ? `, output has ${e.outputContains.length} expected string(s)${e.outputExcludes?.length ? ` and none of ${e.outputExcludes.length} unwanted` : ""}` : ""}`, tail };
}
