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
  /** The definition's `runtime.privileges`: granted on top of the lockdown, nothing more. */
  privileges?: { privileged: boolean; capAdd: string[]; securityOpt: string[]; sysctls?: Record<string, string> };
}

/** The flags that grant exactly the declared privileges. */
export function privilegeArgs(p: HardenedProfile["privileges"]): string[] {
  if (!p) return [];
  return [
    ...(p.privileged ? ["--privileged"] : []),
    ...p.capAdd.map((c) => `--cap-add=${c}`),
    ...p.securityOpt.flatMap((o) => ["--security-opt", o]),
    ...Object.entries(p.sysctls ?? {}).map(([k, v]) => `--sysctl=${k}=${v}`),
  ];
}

export const TEST_LABEL = "dev.kiln.test";

/*
 * What to remove if the process is interrupted (container names/ids, image
 * tags); the signal handlers live only while something is tracked.
 */
const live = new Map<string, string[]>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function onSignal(signal: NodeJS.Signals): void {
  // Newest first: containers before the volumes and networks they use, before the images they run.
  for (const argv of [...live.values()].reverse()) spawnSync("docker", argv, { stdio: "ignore" });
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

/** The locked-down flags every container kiln test starts gets; without a user, the image's. */
export function lockdownArgs(platform: string, user?: string): string[] {
  return [
    "--read-only",
    "--cap-drop=ALL",
    "--security-opt",
    "no-new-privileges",
    ...(user === undefined ? [] : ["--user", user]),
    "--tmpfs",
    "/tmp",
    "--platform",
    platform,
    "--label",
    `${TEST_LABEL}=1`,
  ];
}

export function hardenedArgs(p: HardenedProfile): string[] {
  return [
    ...lockdownArgs(p.platform, p.user),
    ...privilegeArgs(p.privileges),
    ...p.volumes.flatMap((v) => ["--volume", v]),
    ...Object.entries(p.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
  ];
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * Runs a docker command that creates something (`network create`, `volume create`,
 * `run --detach`), remembering `removeArgv` under `key` until `removeTracked(key)`.
 */
export async function createTracked(key: string, createArgv: string[], removeArgv: string[]): Promise<{ ok: true } | { error: string }> {
  track(key, removeArgv);
  const r = await run("docker", createArgv, { what: `docker ${createArgv[0]}`, allowFailure: true });
  if (r.code === 0) return { ok: true };
  await removeTracked(key);
  return { error: r.stderr.trim().split("\n").pop() ?? `exit code ${r.code}` };
}

/** Removes what `createTracked` made under `key` (nothing when it is not tracked). */
export async function removeTracked(key: string): Promise<void> {
  const argv = live.get(key);
  if (!argv) return;
  await run("docker", argv, { what: `docker ${argv[0]}`, allowFailure: true });
  untrack(key);
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

/**
 * A started service is ready when its HEALTHCHECK says healthy, or, without one,
 * when it is still running after two seconds.
 */
export async function waitStarted(id: string, hasHealthcheck: boolean, timeoutMs: number): Promise<HealthOutcome> {
  if (hasHealthcheck) return waitHealthy(id, timeoutMs);
  const started = Date.now();
  await new Promise((r) => setTimeout(r, 2000));
  const s = await inspectState(id);
  return s.Running ? { ok: true, waitedMs: Date.now() - started } : { ok: false, reason: `the container exited with code ${s.ExitCode}`, log: await containerLogs(id) };
}

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

/** Stops a container the way the engine would (SIGTERM, then SIGKILL after 30 s); the engine's error line if it cannot. */
export async function stopContainer(id: string): Promise<string | undefined> {
  const r = await run("docker", ["stop", "--time", "30", id], { what: "docker stop", allowFailure: true });
  return r.code === 0 ? undefined : (r.stderr.trim().split("\n").pop() ?? `exit code ${r.code}`);
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
): Promise<CompletedRun> {
  const name = uniqueName("kiln-test-run");
  // `entrypoint: []` clears the image's entrypoint: the command is then the whole command line.
  const ep = entrypoint ? ["--entrypoint", entrypoint[0] ?? ""] : [];
  const args = ["run", "--rm", "--name", name, ...hardenedArgs(p), ...ep, image, ...(entrypoint?.slice(1) ?? []), ...command];
  return runToCompletion(args, timeoutMs, name);
}

export interface CompletedRun {
  code: number;
  /** stdout and stderr together, in arrival order. */
  output: string;
  timedOut: boolean;
}

/**
 * Runs `docker ARGV` to its end. With `container` (the name a `docker run --rm`
 * gives its container) the container is tracked, and removed on timeout;
 * otherwise (`docker exec`) the docker client is killed on timeout.
 */
export function runToCompletion(argv: string[], timeoutMs: number, container?: string): Promise<CompletedRun> {
  if (container) track(container, ["rm", "--force", "--volumes", container]);
  return new Promise((resolve, reject) => {
    const child = spawn("docker", argv, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      if (container) void run("docker", ["rm", "--force", container], { what: "docker rm", allowFailure: true });
      else child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (container) untrack(container);
      resolve({ code: code ?? 1, output, timedOut });
    });
  });
}
