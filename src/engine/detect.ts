/**
 * Which BuildKit engine kiln will drive, and why. All probes run in parallel
 * with short timeouts; the decision itself (`decideEngine`) is pure so its
 * rules can be tested without an engine. A daemon that accepts connections
 * but does not answer in time is busy, not missing: `detectEngine` probes it
 * again, saying so, for up to `engine.busyTimeout` seconds.
 */
import fs from "node:fs/promises";
import os from "node:os";
import { KilnError } from "../errors.ts";
import type { EngineTarget } from "../plan/types.ts";
import type { Settings } from "../settings/schema.ts";
import { classifyDaemon, socketState, type DaemonState, type SocketState } from "./daemon.ts";
import { httpStatus, probe, probeError, type ProbeResult } from "./probe.ts";
import { waitSaying, type NoticeOutput, type WaitClock } from "./wait.ts";
import { effectiveBuilder } from "./nodes.ts";
import { parseBuilderInspect, type BuilderInspect } from "./buildx-inspect.ts";

export const LOCAL_REGISTRY = "127.0.0.1:5000";
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** What the probes saw; every field is filled even when the thing is absent. */
export interface EngineProbes {
  buildctl: { installed: boolean; version?: string };
  /** Only probed when a BuildKit address is configured and buildctl is installed. */
  buildkitd?: { answers: boolean; state?: DaemonState; error?: string; version?: string; platforms: string[] };
  buildx: { works: boolean; version?: string; error?: string };
  docker: {
    address: string;
    answers: boolean;
    /** Answers, down (nothing listens), busy (no answer in time), denied, failing; derived from `answers`/`error` when absent. */
    state?: DaemonState;
    /** What connecting to the address found. */
    socket?: SocketState;
    error?: string;
    clientVersion?: string;
    serverVersion?: string;
    storageDriver?: string;
    /** The daemon keeps images in containerd (needed for OCI export and multi-platform with the docker driver). */
    containerdStore: boolean;
  };
  builder: BuilderInspect & { timedOut?: boolean };
  binfmt: BinfmtState;
  registry: { address: string; answers: boolean; status?: number };
}

export interface BinfmtState {
  /** The emulator kiln needs for the other architecture, e.g. qemu-aarch64 on amd64. */
  entry: string;
  mounted: boolean;
  enabled: boolean;
  flags: string;
  /** `F` (fix binary): the interpreter is opened at registration, so it works inside containers. */
  fixBinary: boolean;
}

/**
 * - `usable`: builds can run.
 * - `not-running`: nothing listens where the engine should be (start it: `kiln engine setup`).
 * - `busy`: the engine is there but does not answer in time (wait).
 * - `not-capable`: it answers but cannot do what kiln needs (OCI export, multi-platform).
 * - `denied`: it is there but refuses this user.
 * - `unavailable`: anything else (a client missing, a builder broken, settings incomplete).
 */
export type EngineState = "usable" | "not-running" | "busy" | "not-capable" | "denied" | "unavailable";

export interface EngineReport {
  usable: boolean;
  state: EngineState;
  /** When busy: who kiln waited for ("the docker daemon", "buildkitd at tcp://..."). */
  busyWith?: string;
  /** Time spent waiting for a busy engine, when kiln waited. */
  waitedMs?: number;
  driver?: "buildx" | "buildctl";
  /** Why this driver (or why none). */
  why: string;
  /** When not usable: the one line saying what is wrong, and what to do. */
  problem?: string;
  hint?: string;
  target?: EngineTarget;
  engine?: { description: string; version?: string; buildkitVersion?: string; address: string; platforms: string[] };
  ociExport: boolean;
  multiPlatform: boolean;
  /** Why OCI export / multi-platform are not available, when they are not. */
  capabilityNote?: string;
  binfmt: BinfmtState;
  registry: EngineProbes["registry"];
  clients: { docker?: string; buildx?: string; buildctl?: string };
  warnings: string[];
  durationMs: number;
}

const SETUP_HINT = "run `kiln engine setup` (Debian/Ubuntu, root) or set BUILDKIT_HOST to a buildkitd";
const BUSY_HINT = "it is running, not missing: wait and try again";
const DOCKER = "the docker daemon";

/** Picks the driver from settings and probes. Pure. */
export function decideEngine(settings: Pick<Settings, "engine">, p: EngineProbes): Omit<EngineReport, "durationMs"> {
  const { engine } = settings;
  const warnings = hostWarnings(p);
  const common = { binfmt: p.binfmt, registry: p.registry, clients: clientsOf(p), warnings };
  const host = engine.buildkitHost;

  let driver: "buildx" | "buildctl" | undefined;
  let why: string;
  if (engine.driver !== "auto") {
    driver = engine.driver;
    why = `settings choose the ${driver} driver (engine.driver)`;
  } else if (host && p.buildctl.installed) {
    driver = "buildctl";
    why = `BUILDKIT_HOST is set (${host}) and buildctl is installed`;
  } else if (p.buildx.works && p.docker.answers) {
    driver = "buildx";
    why = host
      ? `BUILDKIT_HOST is set (${host}) but no buildctl binary is installed, so docker buildx is used`
      : `BUILDKIT_HOST is not set; docker buildx ${p.buildx.version ?? "(unknown version)"} works and the docker daemon answers at ${p.docker.address}`;
  } else {
    why = host ? `BUILDKIT_HOST is set (${host}) but buildctl is not installed, and docker buildx is not usable` : "BUILDKIT_HOST is not set and docker buildx is not usable";
    const failure = !p.buildx.works
      ? { state: "unavailable" as const, problem: `no BuildKit engine answers: docker buildx is not usable (${p.buildx.error ?? "unknown error"})`, hint: SETUP_HINT }
      : dockerFailure(p.docker);
    return { ...common, usable: false, why, ...failure, ociExport: false, multiPlatform: false };
  }

  if (driver === "buildctl") return decideBuildctl(settings, p, why, common);
  return decideBuildx(settings, p, why, common);
}

type Common = Pick<EngineReport, "binfmt" | "registry" | "clients" | "warnings">;

function decideBuildctl(settings: Pick<Settings, "engine">, p: EngineProbes, why: string, common: Common): Omit<EngineReport, "durationMs"> {
  const host = settings.engine.buildkitHost;
  const base = { ...common, driver: "buildctl" as const, why, ociExport: false, multiPlatform: false, usable: false, state: "unavailable" as const };
  if (!host) return { ...base, problem: "the buildctl driver needs a BuildKit address, but BUILDKIT_HOST (engine.buildkitHost) is not set", hint: "set BUILDKIT_HOST=tcp://HOST:PORT" };
  if (!p.buildctl.installed) return { ...base, problem: "the buildctl driver is chosen but no buildctl binary is installed", hint: "install buildctl (from a BuildKit release) on PATH, or use the buildx driver" };
  const d = p.buildkitd;
  if (d?.state === "busy") {
    return { ...base, state: "busy", busyWith: `buildkitd at ${host}`, problem: `buildkitd at ${host} is busy: it did not answer in time (${d.error ?? "timed out"})`, hint: BUSY_HINT };
  }
  if (!d?.answers) {
    return {
      ...base,
      state: d?.state === "down" ? "not-running" : d?.state === "denied" ? "denied" : "unavailable",
      problem: `no BuildKit engine answers: buildkitd not reachable at ${host} (${d?.error ?? "no answer"})`,
      hint: "check BUILDKIT_HOST and the TLS settings (engine.tls), or unset BUILDKIT_HOST to use docker buildx",
    };
  }
  const target: EngineTarget = { driver: "buildctl", buildkitHost: host, buildctl: settings.engine.buildctl, tls: settings.engine.tls };
  const archs = new Set(d.platforms.map((pl) => pl.split("/")[1]));
  return {
    ...base,
    usable: true,
    state: "usable",
    target,
    engine: { description: `buildkitd at ${host}`, version: d.version, buildkitVersion: d.version, address: host, platforms: d.platforms },
    ociExport: true,
    multiPlatform: archs.size > 1,
    capabilityNote: archs.size > 1 ? undefined : "buildkitd reports a single architecture: enable binfmt/qemu on its host for multi-platform builds",
  };
}

function decideBuildx(settings: Pick<Settings, "engine">, p: EngineProbes, why: string, common: Common): Omit<EngineReport, "durationMs"> {
  const base = { ...common, driver: "buildx" as const, why, ociExport: false, multiPlatform: false };
  const fail = (problem: string, hint = SETUP_HINT, state: EngineState = "unavailable") => ({ ...base, usable: false, state, problem, hint });
  if (!p.buildx.works) return fail(`no BuildKit engine answers: docker buildx is not usable (${p.buildx.error ?? "unknown error"})`);
  if (!p.docker.answers) return { ...base, usable: false, ...dockerFailure(p.docker) };
  const b = p.builder;
  const builderName = effectiveBuilder(settings.engine) ?? b.name;
  if (b.timedOut) {
    return { ...fail(`${DOCKER} at ${p.docker.address} is busy: docker buildx inspect did not answer in time`, BUSY_HINT, "busy"), busyWith: DOCKER };
  }
  if (b.error) {
    return fail(`buildx builder ${builderName ?? "(current)"} is not usable: ${b.error}`, settings.engine.nodes.length ? "run `kiln engine setup --nodes` (it makes the builder from engine.nodes)" : settings.engine.builder ? "check engine.builder (KILN_BUILDER) against `docker buildx ls`" : SETUP_HINT);
  }
  const target: EngineTarget = { driver: "buildx", builder: effectiveBuilder(settings.engine), tls: {} };
  const dockerDriver = (b.driver ?? "docker") === "docker";
  const capable = dockerDriver ? p.docker.containerdStore : true;
  const capabilityNote = capable
    ? undefined
    : "the docker daemon does not use the containerd image store: set {\"features\":{\"containerd-snapshotter\":true}} in /etc/docker/daemon.json and restart dockerd (or run `kiln engine setup` on a fresh host)";
  const version = p.docker.serverVersion;
  const description = dockerDriver
    ? `BuildKit embedded in docker ${version ?? "?"} (buildx builder ${builderName ?? "default"}, driver docker)`
    : `buildx builder ${builderName ?? "?"} (driver ${b.driver})`;
  const report = {
    ...base,
    target,
    engine: { description, version, buildkitVersion: usefulVersion(b.buildkitVersion), address: p.docker.address, platforms: b.platforms },
    ociExport: capable,
    multiPlatform: capable,
    capabilityNote,
  };
  if (!capable) {
    return {
      ...report,
      usable: false,
      state: "not-capable",
      problem: "the docker engine cannot export OCI images or build multi-platform images: its image store is not containerd",
      hint: "set {\"features\":{\"containerd-snapshotter\":true}} in /etc/docker/daemon.json and restart dockerd",
    };
  }
  return { ...report, usable: true, state: "usable" };
}

/** A daemon that refuses this user is not the same problem as one that is not there. */
export function dockerDenied(docker: Pick<EngineProbes["docker"], "error">): boolean {
  return /permission denied/i.test(docker.error ?? "");
}

/** The daemon's state; probes written before states existed only say whether it answered. */
export function dockerState(docker: EngineProbes["docker"]): DaemonState {
  if (docker.state) return docker.state;
  if (docker.answers) return "answers";
  return dockerDenied(docker) ? "denied" : "down";
}

const SOCKET_WORDS: Partial<Record<SocketState, string>> = { absent: "no socket there", refused: "connection refused" };

/** Why a docker daemon that did not answer is no engine, and what to do: start it, wait for it, or get access. */
function dockerFailure(docker: EngineProbes["docker"]): { state: EngineState; problem: string; hint: string; busyWith?: string } {
  const at = docker.address;
  switch (dockerState(docker)) {
    case "busy":
      return { state: "busy", busyWith: DOCKER, problem: `${DOCKER} at ${at} is busy: it did not answer in time (${docker.error ?? "timed out"})`, hint: BUSY_HINT };
    case "denied":
      return { state: "denied", problem: `no BuildKit engine answers: ${DOCKER} at ${at} refuses this user (permission denied)`, hint: "run kiln as a member of the docker group (or as root), or set BUILDKIT_HOST to a buildkitd" };
    case "failing":
      return { state: "unavailable", problem: `${DOCKER} at ${at} answers with an error: ${docker.error ?? "unknown error"}`, hint: "see the daemon's log (`kiln engine setup` starts it with /var/log/kiln/dockerd.log)" };
    default: {
      const why = docker.socket && SOCKET_WORDS[docker.socket];
      return { state: "not-running", problem: `no BuildKit engine answers: docker daemon not reachable at ${at}${why ? ` (${why})` : ""}`, hint: SETUP_HINT };
    }
  }
}

/** Things that do not stop builds but will stop some of them. */
function hostWarnings(p: EngineProbes): string[] {
  const warnings: string[] = [];
  const b = p.binfmt;
  if (!b.mounted) warnings.push(`binfmt_misc is not mounted: foreign-architecture RUN steps cannot be emulated (run \`kiln engine setup\`)`);
  else if (!b.enabled) warnings.push(`${b.entry} emulation is not enabled: foreign-architecture RUN steps fail (run \`kiln engine setup\`)`);
  else if (!b.fixBinary) warnings.push(`${b.entry} is registered without the F flag: the emulator is not found inside build containers`);
  if (!p.registry.answers) {
    const what = p.registry.status === undefined ? "does not answer" : `answers HTTP ${p.registry.status} (auth or not a registry)`;
    warnings.push(`the local registry ${p.registry.address} ${what}: pushing to it and the push tests need it (run \`kiln engine setup\`)`);
  }
  return warnings;
}

function clientsOf(p: EngineProbes): EngineReport["clients"] {
  return { docker: p.docker.clientVersion, buildx: p.buildx.version, buildctl: p.buildctl.version };
}

/** Debian's BuildKit inside docker reports v0.0.0+unknown: not worth showing. */
function usefulVersion(v: string | undefined): string | undefined {
  return v && !v.startsWith("v0.0.0") ? v : undefined;
}

export interface DetectOptions {
  /** Where the `waiting for ... (busy N s)` lines go (default stderr). */
  out?: NoticeOutput;
  /** Stand-ins for the probes and the clock (tests of the waiting logic). */
  probe?: (settings: Pick<Settings, "engine">) => Promise<EngineProbes>;
  clock?: WaitClock;
}

/**
 * The engine report: runs every probe at once, then decides. A busy engine
 * is probed again, once a second, until it answers or `engine.busyTimeout`
 * seconds have passed; then the report says busy (never "not running").
 */
export async function detectEngine(settings: Pick<Settings, "engine">, opts: DetectOptions = {}): Promise<EngineReport> {
  const started = performance.now();
  const probeOnce = opts.probe ?? probeEngine;
  const boundMs = (settings.engine.busyTimeout ?? 0) * 1000;
  const waited = await waitSaying(waitingFor(settings), async () => decideEngine(settings, await probeOnce(settings)), (r) => r.state === "busy", {
    boundMs,
    clock: opts.clock,
    out: opts.out,
  });
  const decided = waited.gaveUp ? gaveUp(waited.result, settings, waited.waitedMs) : waited.result;
  const { usable, state, driver, why, problem, hint, ...rest } = decided;
  const waitedMs = waited.attempts > 1 ? Math.round(waited.waitedMs) : undefined;
  // The verdict first: it is what a reader of --json wants.
  return { usable, state, driver, why, problem, hint, ...rest, ...(waitedMs !== undefined ? { waitedMs } : {}), durationMs: Math.round(performance.now() - started) };
}

/** Who kiln waits for, in the words of the waiting line. */
function waitingFor(settings: Pick<Settings, "engine">): string {
  const { driver, buildkitHost } = settings.engine;
  const buildctl = driver === "buildctl" || (driver === "auto" && buildkitHost);
  return buildctl && buildkitHost ? `buildkitd at ${buildkitHost}` : DOCKER;
}

/** The verdict once kiln stops waiting: still busy, for how long, and how to wait longer. */
function gaveUp(r: Omit<EngineReport, "durationMs">, settings: Pick<Settings, "engine">, waitedMs: number): Omit<EngineReport, "durationMs"> {
  const who = r.busyWith ?? waitingFor(settings);
  const seconds = Math.round(waitedMs / 1000);
  const bound = settings.engine.busyTimeout ?? 0;
  return {
    ...r,
    problem: `${who} is busy: it is running but has not answered for ${seconds} s`,
    hint: `wait and try again; engine.busyTimeout (KILN_BUSY_TIMEOUT, now ${bound} s) sets how long kiln waits`,
  };
}

/** Usable engines already found in this process: a catalog build asks once per image. */
const usableEngines = new Map<string, EngineTarget>();

/** The engine to build with, or a one-line KilnError saying why there is none. */
export async function requireEngine(settings: Pick<Settings, "engine">, opts: DetectOptions = {}): Promise<EngineTarget> {
  const key = JSON.stringify([settings.engine, process.env.DOCKER_HOST ?? ""]);
  const known = usableEngines.get(key);
  if (known) return known;
  const report = await detectEngine(settings, opts);
  if (!report.usable || !report.target) throw new KilnError(report.problem ?? "no usable BuildKit engine", report.hint);
  usableEngines.set(key, report.target);
  return report.target;
}

/** Connection flags for buildctl (address and TLS). */
export function buildctlConnectionArgs(target: Pick<EngineTarget, "buildkitHost" | "tls">): string[] {
  const args: string[] = [];
  if (target.buildkitHost) args.push("--addr", target.buildkitHost);
  const { ca, cert, key, serverName } = target.tls;
  if (serverName) args.push("--tlsservername", serverName);
  if (ca) args.push("--tlscacert", ca);
  if (cert) args.push("--tlscert", cert);
  if (key) args.push("--tlskey", key);
  return args;
}

export async function probeEngine(settings: Pick<Settings, "engine">): Promise<EngineProbes> {
  const builderName = effectiveBuilder(settings.engine);
  const builderArgs = builderName ? ["buildx", "inspect", builderName] : ["buildx", "inspect"];
  const [buildctl, buildx, info, builder, context, binfmt, registry] = await Promise.all([
    settings.engine.buildkitHost || settings.engine.driver === "buildctl" ? probe(settings.engine.buildctl, ["--version"], { timeoutMs: 3000 }) : undefined,
    probe("docker", ["buildx", "version"], { timeoutMs: 5000 }),
    probe("docker", ["info", "--format", "{{json .}}"], { timeoutMs: 5000 }),
    probe("docker", builderArgs, { timeoutMs: 5000 }),
    process.env.DOCKER_HOST ? undefined : probe("docker", ["context", "inspect", "--format", "{{.Endpoints.docker.Host}}"], { timeoutMs: 3000 }),
    readBinfmt(),
    httpStatus(`http://${LOCAL_REGISTRY}/v2/`),
  ]);
  const address = process.env.DOCKER_HOST || (context?.ok && context.stdout.trim()) || DEFAULT_DOCKER_HOST;
  const buildctlInstalled = Boolean(buildctl?.ok);
  const buildkitd =
    buildctlInstalled && settings.engine.buildkitHost ? await probeBuildkitd({ buildkitHost: settings.engine.buildkitHost, buildctl: settings.engine.buildctl, tls: settings.engine.tls }) : undefined;
  return {
    buildctl: { installed: buildctlInstalled, version: buildctl?.ok ? parseBuildctlVersion(buildctl.stdout) : undefined },
    buildkitd,
    buildx: buildx.ok ? { works: true, version: parseBuildxVersion(buildx.stdout) } : { works: false, error: probeError(buildx, "docker buildx") },
    docker: await dockerProbeOf(info, address),
    builder: { ...parseBuilderInspect(builder.ok ? builder.stdout : "", builder.ok ? undefined : probeError(builder, "docker buildx inspect")), ...(builder.timedOut ? { timedOut: true } : {}) },
    binfmt,
    registry: { address: LOCAL_REGISTRY, answers: registry === 200, status: registry },
  };
}

/** `docker info` plus, when it did not answer, a look at the socket: busy and not running look alike otherwise. */
export async function dockerProbeOf(info: ProbeResult, address: string): Promise<EngineProbes["docker"]> {
  const parsed = parseDockerInfo(info.stdout, info.ok);
  if (parsed.answers) return { address, ...parsed, state: "answers", socket: "accepts" };
  const socket = await socketState(address);
  return { address, ...parsed, state: classifyDaemon(info, socket, false), socket, error: probeError(info, "docker") };
}

async function probeBuildkitd(target: Pick<EngineTarget, "buildkitHost" | "buildctl" | "tls">): Promise<NonNullable<EngineProbes["buildkitd"]>> {
  const conn = buildctlConnectionArgs(target);
  const buildctl = target.buildctl ?? "buildctl";
  const [workers, info] = await Promise.all([
    probe(buildctl, [...conn, "debug", "workers", "--format", "{{json .}}"], { timeoutMs: 5000 }),
    probe(buildctl, [...conn, "debug", "info", "--format", "{{json .}}"], { timeoutMs: 5000 }),
  ]);
  if (!workers.ok) {
    const state = classifyDaemon(workers, await socketState(target.buildkitHost ?? ""));
    return { answers: false, state, error: probeError(workers, "buildctl"), platforms: [] };
  }
  return { answers: true, state: "answers", platforms: parseWorkerPlatforms(workers.stdout), version: info.ok ? parseBuildkitdInfo(info.stdout) : undefined };
}

/** `github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3` -> `0.13.1+ds1` */
export function parseBuildxVersion(out: string): string | undefined {
  return out.trim().split(/\s+/)[1];
}

/** `buildctl github.com/moby/buildkit v0.13.2 <rev>` -> `v0.13.2` */
export function parseBuildctlVersion(out: string): string | undefined {
  return out.trim().split(/\s+/)[2];
}

export function parseDockerInfo(out: string, ok: boolean): Omit<EngineProbes["docker"], "address" | "error"> {
  let info: { ServerVersion?: string; Driver?: string; DriverStatus?: [string, string][] | null; ClientInfo?: { Version?: string } } = {};
  try {
    info = JSON.parse(out);
  } catch {
    // No JSON: the client failed before printing anything.
  }
  const driverType = info.DriverStatus?.find(([k]) => k === "driver-type")?.[1] ?? "";
  return {
    answers: ok && Boolean(info.ServerVersion),
    clientVersion: info.ClientInfo?.Version || undefined,
    serverVersion: info.ServerVersion || undefined,
    storageDriver: info.Driver || undefined,
    containerdStore: driverType.startsWith("io.containerd.snapshotter"),
  };
}

/** `buildctl debug workers --format '{{json .}}'`: platforms of all workers, e.g. linux/amd64. */
export function parseWorkerPlatforms(out: string): string[] {
  try {
    // buildctl up to 0.12 prints Go field names (`Platforms`); later ones their JSON tags (`platforms`).
    type Worker = { Platforms?: { os?: string; architecture?: string; variant?: string }[]; platforms?: Worker["Platforms"] };
    const workers = JSON.parse(out) as Worker[];
    const all = workers.flatMap((w) => (w.platforms ?? w.Platforms ?? []).map((pl) => [pl.os, pl.architecture, pl.variant].filter(Boolean).join("/")));
    return [...new Set(all)];
  } catch {
    return [];
  }
}

function parseBuildkitdInfo(out: string): string | undefined {
  try {
    const info = JSON.parse(out) as { BuildkitVersion?: { Version?: string }; buildkitVersion?: { version?: string } };
    return info.buildkitVersion?.version ?? info.BuildkitVersion?.Version;
  } catch {
    return undefined;
  }
}

/** The binfmt entry for the architecture this host cannot run natively. */
export function foreignEmulator(arch = os.arch()): string {
  return arch === "arm64" ? "qemu-x86_64" : "qemu-aarch64";
}

export async function readBinfmt(entry = foreignEmulator()): Promise<BinfmtState> {
  const dir = "/proc/sys/fs/binfmt_misc";
  const mounted = await fs.access(`${dir}/status`).then(
    () => true,
    () => false,
  );
  const text = mounted ? await fs.readFile(`${dir}/${entry}`, "utf8").catch(() => "") : "";
  return { entry, mounted, ...parseBinfmtEntry(text) };
}

/** `enabled\ninterpreter ...\nflags: PF\n...` -> enabled, flags, fixBinary */
export function parseBinfmtEntry(text: string): Pick<BinfmtState, "enabled" | "flags" | "fixBinary"> {
  const enabled = text.split("\n")[0]?.trim() === "enabled";
  const flags = text.match(/^flags:\s*(\S*)/m)?.[1] ?? "";
  return { enabled, flags, fixBinary: flags.includes("F") };
}
