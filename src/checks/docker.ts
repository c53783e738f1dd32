/**
 * Running images under the hardened profile kiln promises for every catalog
 * image: read-only root, no capabilities, no privilege gain, a non-root
 * user, tmpfs /tmp, anonymous volumes for the declared data folders.
 */
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { run } from "../util/run.ts";

export interface HardenedProfile {
  user: string;
  platform: string;
  volumes: string[];
  env: Record<string, string>;
}

export const TEST_LABEL = "dev.kiln.test";

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
  const r = await run("docker", ["run", "--detach", "--name", uniqueName("kiln-test"), ...hardenedArgs(p), image], { what: "docker run", allowFailure: true });
  if (r.code !== 0) return { error: r.stderr.trim().split("\n").pop() ?? `exit code ${r.code}` };
  return { id: r.stdout.toString().trim() };
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
}

export async function removeImage(tag: string): Promise<void> {
  await run("docker", ["rmi", "--force", tag], { what: "docker rmi", allowFailure: true });
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
      resolve({ code: code ?? 1, output, timedOut });
    });
  });
}
