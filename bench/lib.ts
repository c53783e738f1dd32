/**
 * What the benchmarks share: running the kiln CLI under GNU time (wall and
 * CPU seconds of kiln and its children) and the median of repeated runs.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../src/paths.ts";

export const KILN = path.join(REPO_ROOT, "bin", "kiln");

export interface Timing {
  ms: number;
  cpuMs: number;
}

/** Runs kiln under GNU time, which adds the CPU seconds of the process and its children as a last stderr line. */
export function run(argv: string[], env: NodeJS.ProcessEnv): Promise<Timing & { code: number; stdout: string; stderr: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-f", "KILN_CPU %U %S", KILN, ...argv], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const m = /KILN_CPU ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      const cpuMs = m ? (Number(m[1]) + Number(m[2])) * 1000 : Number.NaN;
      resolve({ code: code ?? 1, ms: performance.now() - started, cpuMs, stdout, stderr: stderr.replace(/KILN_CPU .*\s*$/, "") });
    });
  });
}

export async function must(argv: string[], env: NodeJS.ProcessEnv): Promise<Timing & { stdout: string }> {
  const r = await run(argv, env);
  if (r.code !== 0) throw new Error(`kiln ${argv.join(" ")} failed (${r.code}):\n${r.stderr}`);
  return r;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
