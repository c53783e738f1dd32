/**
 * Running images under the hardened profile kiln promises for every catalog
 * image: read-only root, no capabilities, no privilege gain, a non-root
 * user, tmpfs /tmp, anonymous volumes for the declared data folders.
 */
import { randomBytes } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import { run } from "../util/run.ts";

export interface HardenedProfile {
  user: string;
  platform: string;
  volumes: string[];
  env: Record<string, string>;
}

export const TEST_LABEL = "dev.kiln.test";

/*
 * What to remove if the process is interrupted (container names/ids, image
 * tags); the signal handlers live only while something is tracked.
 */
const live = new Map<string, string[]>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function onSignal(signal: NodeJS.Signals): void {
  for (const argv of live.values()) spawnSync("docker", argv, { stdio: "ignore" });
  live.clear();
  for (const sig of SIGNALS) process.off(sig, onSignal);
  process.kill(process.pid, signal);
}

/** Remembers how to remove something this process created, until `untrack`. */
export function track(key: string, removeArgv: string[]): void {
  if (live.size === 0) for (const sig of SIGNALS) process.on(sig, onSignal);
  live.set(key, removeArgv);
}

export function untrack(key: string): void {
  if (live.delete(key) && live.size === 0) for (const sig of SIGNALS) process.off(sig, onSignal);
}

export function hardenedArgs(p: HardenedProfile): string[] {
  return [
    "--read-only",
    "--cap-drop=ALL",
    "--security-opt",
    "no-new-privileges",
    "--user",
    p.user,
    "--tmpfs",
    "/tmp",
    "--platform",
    p.platform,
    "--label",
    `${TEST_LABEL}=1`,
    ...p.volumes.flatMap((v) => ["--volume", v]),
    ...Object.entries(p.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
  ];
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Starts a detached container; returns its id, or the engine's error line. */
export async function startContainer(image: string, p: HardenedProfile): Promise<{ id: string } | { error: string }> {
  const name = uniqueName("kiln-test");
  track(name, ["rm", "--force", "--volumes", name]);
  const r = await run("docker", ["run", "--detach", "--name", name, ...hardenedArgs(p), image], { what: "docker run", allowFailure: true });
  if (r.code !== 0) {
    await removeContainer(name);
    return { error: r.stderr.trim().split("\n").pop() ?? `exit code ${r.code}` };
  }
  return { id: name };
}

interface ContainerState {
  Status: string;
  Running: boolean;
  ExitCode: number;
  Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] };
}

export async function inspectState(id: string): Promise<ContainerState> {
  const r = await run("docker", ["inspect", "--format", "{{json .State}}", id], { what: "docker inspect" });
  return JSON.parse(r.stdout.toString()) as ContainerState;
}

export async function containerIp(id: string): Promise<string | undefined> {
  const r = await run("docker", ["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", id], { what: "docker inspect" });
  return r.stdout.toString().trim().split(/\s+/).find(Boolean);
}

export async function containerLogs(id: string, lines = 20): Promise<string[]> {
  const r = await run("docker", ["logs", "--tail", String(lines), id], { what: "docker logs", allowFailure: true });
  return (r.stdout.toString() + r.stderr).split("\n").filter(Boolean);
}

export type HealthOutcome = { ok: true; waitedMs: number } | { ok: false; reason: string; log: string[] };

/** Polls until the container's HEALTHCHECK says healthy; fails early when it exits or turns unhealthy. */
export async function waitHealthy(id: string, timeoutMs: number): Promise<HealthOutcome> {
  const started = Date.now();
  for (;;) {
    const s = await inspectState(id);
    const healthLog = (s.Health?.Log ?? []).map((l) => `health check exit ${l.ExitCode}: ${l.Output.trim().replace(/\n/g, " | ")}`);
    if (!s.Running) return { ok: false, reason: `the container exited with code ${s.ExitCode}`, log: [...(await containerLogs(id)), ...healthLog] };
    if (s.Health?.Status === "healthy") return { ok: true, waitedMs: Date.now() - started };
    if (s.Health?.Status === "unhealthy") return { ok: false, reason: "the health check reports unhealthy", log: healthLog };
    if (Date.now() - started > timeoutMs) return { ok: false, reason: `not healthy after ${Math.round(timeoutMs / 1000)}s (${s.Health?.Status ?? "no health status"})`, log: healthLog };
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function removeContainer(id: string): Promise<void> {
  await run("docker", ["rm", "--force", "--volumes", id], { what: "docker rm", allowFailure: true });
  untrack(id);
}

export async function removeImage(tag: string): Promise<void> {
  await run("docker", ["rmi", "--force", tag], { what: "docker rmi", allowFailure: true });
  untrack(tag);
}

/** `docker run --rm` under the profile; output is stdout and stderr together. */
export async function runOnce(
  image: string,
  p: HardenedProfile,
  command: string[],
  entrypoint: string[] | undefined,
  timeoutMs: number,
): Promise<{ code: number; output: string; timedOut: boolean }> {
  const name = uniqueName("kiln-test-run");
  // `entrypoint: []` clears the image's entrypoint: the command is then the whole command line.
  const ep = entrypoint ? ["--entrypoint", entrypoint[0] ?? ""] : [];
  const args = ["run", "--rm", "--name", name, ...hardenedArgs(p), ...ep, image, ...(entrypoint?.slice(1) ?? []), ...command];
  track(name, ["rm", "--force", "--volumes", name]);
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      void run("docker", ["rm", "--force", name], { what: "docker rm", allowFailure: true });
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      untrack(name);
      resolve({ code: code ?? 1, output, timedOut });
    });
  });
}
