/**
 * Short, bounded looks at the host: run a command or ask an HTTP endpoint,
 * never throw, never wait long. Engine detection and setup are built on these.
 */
import { execFile } from "node:child_process";
import http from "node:http";

export interface ProbeResult {
  ok: boolean;
  /** The program is not installed (ENOENT). */
  missing: boolean;
  timedOut: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` with a timeout; the result says what happened instead of throwing. */
export function probe(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 5000, env: opts.env ?? process.env, maxBuffer: 16 * 1024 * 1024, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        const err = error as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        resolve({
          ok: !err,
          missing: err?.code === "ENOENT",
          timedOut: Boolean(err?.killed),
          code: err ? (typeof err.code === "number" ? err.code : null) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        });
      },
    );
  });
}

/** The first meaningful line of a failed probe, for one-line messages. */
export function probeError(r: ProbeResult, what: string): string {
  if (r.missing) return `${what}: not installed`;
  if (r.timedOut) return `${what}: no answer (timed out)`;
  const line = (r.stderr || r.stdout)
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line ?? `${what}: exit code ${r.code}`;
}

/**
 * The HTTP status an endpoint answers with, or undefined when nothing answers in time.
 * Plain node:http without keep-alive: fetch() keeps the socket (and the process) alive for seconds.
 */
export function httpStatus(url: string, timeoutMs = 1500): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers: { connection: "close" } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
  });
}
