/**
 * `kiln engine setup`: brings a Debian/Ubuntu host (as root) to a working
 * engine: pinned packages, binfmt emulation, dockerd with the containerd image
 * store, a local registry. Idempotent: it looks first (in parallel), plans the
 * actions (`planSetup`, pure), and does only those. A running dockerd or
 * registry is never stopped or restarted, and a busy one (its socket accepts
 * connections, it does not answer in time) is waited for, never doubled.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors.ts";
import { writeAtomic } from "../oci/store.ts";
import { REPO_ROOT } from "../paths.ts";
import { run } from "../util/run.ts";
import type { DaemonState } from "./daemon.ts";
import { DEFAULT_DOCKER_HOST, dockerProbeOf, dockerState, LOCAL_REGISTRY, readBinfmt, type BinfmtState } from "./detect.ts";
import {
  APT_PREFERENCES_FILE,
  APT_SOURCES_FILE,
  chooseInstall,
  isDebianLike,
  loadPins,
  parseMadison,
  parseOsRelease,
  PINS_FILE,
  renderPreferences,
  renderSources,
  unsatisfiedPins,
  type HostOs,
  type InstallChoice,
  type PackageNeed,
  type Pins,
} from "./pins.ts";
import { httpStatus, probe } from "./probe.ts";
import { LOG_DIR, startService } from "./services.ts";
import { waitSaying, type NoticeOutput, type WaitClock } from "./wait.ts";

export const DAEMON_CONFIG = "/etc/docker/daemon.json";
export const REGISTRY_CONFIG = "/etc/kiln/registry.yml";
export const REGISTRY_CONFIG_SOURCE = path.join(REPO_ROOT, "hack", "engine", "registry.yml");
export const REGISTRY_STORAGE = "/var/lib/kiln/registry";
const POLICY_RC_D = "/usr/sbin/policy-rc.d";

export interface HostState {
  os: HostOs;
  root: boolean;
  hasApt: boolean;
  needs: PackageNeed[];
  binfmt: BinfmtState;
  daemonConfig: { current?: unknown; invalid?: string };
  docker: { local: boolean; address: string; answers: boolean; containerdStore: boolean; error?: string; state?: DaemonState };
  registry: { status?: number };
}

export type SetupAction =
  | { kind: "packages"; needs: PackageNeed[] }
  | { kind: "binfmt-mount" }
  | { kind: "binfmt-enable"; entry: string; reregister: boolean }
  | { kind: "daemon-config"; missing: string[] }
  | { kind: "dockerd" }
  | { kind: "registry" };

export interface SetupPlan {
  actions: SetupAction[];
  /** Problems setup will not fix by itself (it never restarts a running daemon). */
  blockers: string[];
  /** Why this host may not be changed (not root, not Debian/Ubuntu), when it may not. */
  refusal?: string;
}

/** Decides what to do from what was seen. Pure. */
export function planSetup(s: HostState): SetupPlan {
  const actions: SetupAction[] = [];
  const blockers: string[] = [];
  if (s.needs.length) actions.push({ kind: "packages", needs: s.needs });
  if (!s.binfmt.mounted) actions.push({ kind: "binfmt-mount" });
  if (!s.binfmt.enabled || !s.binfmt.fixBinary) actions.push({ kind: "binfmt-enable", entry: s.binfmt.entry, reregister: s.binfmt.enabled });
  if (s.daemonConfig.invalid) blockers.push(`${DAEMON_CONFIG} is not valid JSON (${s.daemonConfig.invalid}): fix it, then rerun setup`);
  else {
    const { missing } = mergeDaemonConfig(s.daemonConfig.current);
    if (missing.length) actions.push({ kind: "daemon-config", missing });
  }
  const docker = dockerState(s.docker);
  if (docker !== "answers") {
    if (docker === "denied") blockers.push(`the docker daemon at ${s.docker.address} is running but refuses this user (permission denied): run as root or as a member of the docker group`);
    else if (docker === "busy") blockers.push(`the docker daemon at ${s.docker.address} is running but busy (${s.docker.error ?? "no answer in time"}); setup does not start a second one: wait, then rerun setup`);
    else if (docker === "failing") blockers.push(`the docker daemon at ${s.docker.address} is running but answers with an error (${s.docker.error ?? "unknown"}); see ${LOG_DIR}/dockerd.log`);
    else if (s.docker.local) actions.push({ kind: "dockerd" });
    else blockers.push(`the docker daemon at ${s.docker.address} (DOCKER_HOST) does not answer; setup only starts a local dockerd: unset DOCKER_HOST or start that daemon`);
  } else if (!s.docker.containerdStore) {
    blockers.push(
      `dockerd at ${s.docker.address} runs without the containerd image store (no OCI export, no multi-platform); setup does not restart a running daemon: restart dockerd yourself so it reads ${DAEMON_CONFIG}`,
    );
  }
  if (s.registry.status === undefined) actions.push({ kind: "registry" });
  else if (s.registry.status !== 200) blockers.push(`${LOCAL_REGISTRY} answers HTTP ${s.registry.status} to /v2/ (auth on, or not a registry): kiln needs an open local registry there`);
  let refusal: string | undefined;
  if (!isDebianLike(s.os)) refusal = `this host is ${s.os.prettyName ?? s.os.id}, not Debian or Ubuntu`;
  else if (!s.hasApt) refusal = "apt-get is not installed";
  else if (!s.root) refusal = "setup needs root (it installs packages and starts daemons)";
  return { actions, blockers, refusal };
}

/** One line saying what an action fixes (also what is missing, when setup may not run). */
export function describeAction(a: SetupAction): string {
  switch (a.kind) {
    case "packages":
      return `packages not at their pinned versions: ${a.needs.map((n) => `${n.anyVersion ? n.name : `${n.name} ${n.want}`} (${n.have ? `have ${n.have}` : "not installed"})`).join(", ")}`;
    case "binfmt-mount":
      return "binfmt_misc is not mounted at /proc/sys/fs/binfmt_misc (needed to emulate the other architecture)";
    case "binfmt-enable":
      return a.reregister ? `${a.entry} is registered without the F flag (the emulator is not found inside build containers)` : `${a.entry} emulation is not enabled (binfmt)`;
    case "daemon-config":
      return `${DAEMON_CONFIG} does not turn on ${a.missing.map((m) => DAEMON_KEYS[m] ?? m).join(" and ")} (${a.missing.join(", ")})`;
    case "dockerd":
      return `dockerd is not running (docker info does not answer at ${DEFAULT_DOCKER_HOST})`;
    case "registry":
      return `no registry answers on ${LOCAL_REGISTRY}`;
  }
}

/**
 * A bounded build cache. dockerd runs BuildKit's cache GC only when daemon.json
 * turns it on, and every `kiln verify` adds a full, never reused set of cache
 * records (measured: 0.5 GB per verify of debian): without it the cache grows
 * until the disk is full. Measured in docs/reliability.md.
 */
export const BUILDER_GC = { enabled: true, defaultKeepStorage: "20GB" };

const DAEMON_KEYS: Record<string, string> = { "features.containerd-snapshotter": "the containerd image store", "builder.gc": "a bounded build cache" };

const objectOr = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/**
 * daemon.json with the containerd image store on and, unless one is set, a
 * build-cache GC policy; every other key kept as it was. `missing` names what
 * was added (empty: nothing to change).
 */
export function mergeDaemonConfig(current: unknown): { config: Record<string, unknown>; missing: string[]; changed: boolean } {
  const base = objectOr(current);
  const features = objectOr(base.features);
  const builder = objectOr(base.builder);
  const missing = [...(features["containerd-snapshotter"] !== true ? ["features.containerd-snapshotter"] : []), ...(builder.gc === undefined ? ["builder.gc"] : [])];
  const config = { ...base, features: { ...features, "containerd-snapshotter": true }, builder: { ...builder, gc: builder.gc ?? BUILDER_GC } };
  return { config, missing, changed: missing.length > 0 };
}

/** Looks at everything setup cares about, all at once. */
export async function inspectHost(pins: Pins): Promise<HostState> {
  const names = pins.packages.map((p) => p.name);
  const dockerHost = process.env.DOCKER_HOST;
  const [osText, installed, hasApt, binfmt, daemonConfig, info, registry] = await Promise.all([
    fs.readFile("/etc/os-release", "utf8").catch(() => ""),
    installedVersions(names),
    probe("apt-get", ["--version"], { timeoutMs: 3000 }).then((r) => r.ok),
    readBinfmt(),
    readDaemonConfig(),
    probe("docker", ["info", "--format", "{{json .}}"], { timeoutMs: 5000 }),
    httpStatus(`http://${LOCAL_REGISTRY}/v2/`),
  ]);
  const address = dockerHost || DEFAULT_DOCKER_HOST;
  const docker = await dockerProbeOf(info, address);
  return {
    os: parseOsRelease(osText),
    root: process.getuid?.() === 0,
    hasApt,
    needs: unsatisfiedPins(pins, installed),
    binfmt,
    daemonConfig,
    docker: { local: !dockerHost || dockerHost === DEFAULT_DOCKER_HOST, address, answers: docker.answers, containerdStore: docker.containerdStore, error: docker.error, state: docker.state },
    registry: { status: registry },
  };
}

export interface InspectOptions {
  /** How long to wait for a busy docker daemon (engine.busyTimeout). */
  busyTimeoutMs?: number;
  /** Where the waiting line goes (default stderr). */
  out?: NoticeOutput;
  clock?: WaitClock;
  /** Stand-in for inspectHost (tests of the waiting logic). */
  inspect?: (pins: Pins) => Promise<HostState>;
}

/** inspectHost, looking again while the docker daemon is busy (up to the bound). */
export async function inspectHostPatiently(pins: Pins, opts: InspectOptions = {}): Promise<HostState> {
  const waited = await waitSaying("the docker daemon", () => (opts.inspect ?? inspectHost)(pins), (h) => dockerState(h.docker) === "busy", {
    boundMs: opts.busyTimeoutMs ?? 0,
    clock: opts.clock,
    out: opts.out,
  });
  if (!waited.gaveUp) return waited.result;
  const s = Math.round(waited.waitedMs / 1000);
  return { ...waited.result, docker: { ...waited.result.docker, error: `no answer for ${s} s` } };
}

/** package -> installed version, for the packages dpkg knows as installed. */
async function installedVersions(names: string[]): Promise<Map<string, string>> {
  const r = await probe("dpkg-query", ["-W", "-f", "${Package}\\t${Version}\\t${db:Status-Abbrev}\\n", ...names], { timeoutMs: 5000 });
  const map = new Map<string, string>();
  for (const line of r.stdout.split("\n")) {
    const [name, version, status] = line.split("\t");
    if (name && version && status?.startsWith("ii")) map.set(name, version);
  }
  return map;
}

/** Resolves `a >= b` (Debian version order) for the given pairs with dpkg, then answers from that. */
async function debianVersionComparer(pairs: [string, string][]): Promise<(a: string, b: string) => boolean> {
  const known = new Map<string, boolean>();
  await Promise.all(
    pairs.map(async ([a, b]) => {
      if (a === b) return;
      const r = await probe("dpkg", ["--compare-versions", a, "ge", b], { timeoutMs: 3000 });
      known.set(`${a} ${b}`, r.ok);
    }),
  );
  return (a, b) => a === b || (known.get(`${a} ${b}`) ?? false);
}

async function readDaemonConfig(): Promise<HostState["daemonConfig"]> {
  let text: string;
  try {
    text = await fs.readFile(DAEMON_CONFIG, "utf8");
  } catch {
    return {};
  }
  if (!text.trim()) return {};
  try {
    return { current: JSON.parse(text) };
  } catch (e) {
    return { invalid: (e as Error).message };
  }
}

export interface SetupResult {
  /** What was done, one line each (empty: everything was already up). */
  done: string[];
  /** What is missing on a host setup may not change (then nothing was done). */
  missing: string[];
  refusal?: string;
  ms: number;
}

/** Runs setup. `say` gets one progress line per step; nothing is said when there is nothing to do. */
export async function setupEngine(say: (line: string) => void = () => {}, opts: InspectOptions = {}): Promise<SetupResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const pins = await loadPins();
  const inspectHost = (p: Pins) => inspectHostPatiently(p, opts);
  let plan = planSetup(await inspectHost(pins));
  if (plan.actions.length === 0 && plan.blockers.length === 0) return { done: [], missing: [], ms: elapsed() };
  if (plan.refusal) {
    return { done: [], missing: [...plan.actions.map(describeAction), ...plan.blockers], refusal: plan.refusal, ms: elapsed() };
  }
  const done: string[] = [];
  const packages = plan.actions.find((a) => a.kind === "packages");
  if (packages) {
    await installPackages(pins, packages.needs, say);
    done.push(`installed ${packages.needs.length} package(s)`);
    // Package scripts may have registered binfmt entries or written config: look again.
    plan = planSetup(await inspectHost(pins));
    const still = plan.actions.find((a) => a.kind === "packages");
    if (still) throw new KilnError(`packages still not at their pinned versions after installing: ${describeAction(still)}`, `check \`apt-cache policy\` and ${PINS_FILE}`);
  }
  for (const action of plan.actions) {
    if (action.kind === "packages") continue;
    say(`${describeAction(action)}: fixing`);
    done.push(await applyAction(action));
    say(done.at(-1)!);
  }
  if (plan.blockers.length) throw new KilnError(plan.blockers[0]!, plan.blockers.length > 1 ? `also: ${plan.blockers.slice(1).join("; ")}` : undefined);
  // Look once more: every step claims success, the host must now agree.
  const left = planSetup(await inspectHost(pins));
  const unresolved = [...left.actions.map(describeAction), ...left.blockers];
  if (unresolved.length) throw new KilnError(`setup ran, but this is still not right: ${unresolved[0]}`, unresolved.length > 1 ? `also: ${unresolved.slice(1).join("; ")}` : "see the lines above");
  return { done, missing: [], ms: elapsed() };
}

async function applyAction(action: Exclude<SetupAction, { kind: "packages" }>): Promise<string> {
  switch (action.kind) {
    case "binfmt-mount":
      await run("mount", ["-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc"], { what: "mount binfmt_misc", hint: "the host must allow mounting binfmt_misc (a privileged container or a VM)" });
      return "mounted binfmt_misc";
    case "binfmt-enable":
      return enableBinfmt(action.entry, action.reregister);
    case "daemon-config": {
      const current = await readDaemonConfig();
      const { config, missing } = mergeDaemonConfig(current.current);
      await fs.mkdir(path.dirname(DAEMON_CONFIG), { recursive: true });
      await writeAtomic(DAEMON_CONFIG, JSON.stringify(config, null, 2) + "\n");
      return `wrote ${DAEMON_CONFIG} (${missing.map((m) => `${DAEMON_KEYS[m] ?? m} on`).join(", ")}; a dockerd already running reads it when it next starts)`;
    }
    case "dockerd":
      return startDockerd();
    case "registry":
      return startRegistry();
  }
}

async function enableBinfmt(entry: string, reregister: boolean): Promise<string> {
  const what = `enable ${entry} emulation`;
  const hint = "install qemu-user-static and binfmt-support (`kiln engine setup` as root)";
  if (reregister) await run("update-binfmts", ["--disable", entry], { what, hint });
  await run("update-binfmts", ["--enable", entry], { what, hint });
  const state = await readBinfmt(entry);
  if (!state.enabled) throw new KilnError(`${entry} is still not enabled after update-binfmts --enable`, "check /usr/share/binfmts/ and `update-binfmts --display`");
  if (!state.fixBinary) throw new KilnError(`${entry} is enabled with flags "${state.flags}", without F: the emulator will not be found inside build containers`, `set "fix_binary yes" in /usr/share/binfmts/${entry}, then rerun setup`);
  return `enabled ${entry} (flags ${state.flags})`;
}

async function dockerAnswers(): Promise<boolean> {
  const r = await probe("docker", ["info", "--format", "{{json .ServerVersion}}"], { timeoutMs: 3000 });
  return r.ok;
}

async function startDockerd(): Promise<string> {
  const started = await startService({ name: "dockerd", cmd: await sbin("dockerd"), args: [], answers: dockerAnswers, timeoutMs: 60_000 });
  return `started dockerd (pid ${started.pid}, answered after ${(started.ms / 1000).toFixed(1)} s, log ${LOG_DIR}/dockerd.log)`;
}

async function startRegistry(): Promise<string> {
  await fs.mkdir(path.dirname(REGISTRY_CONFIG), { recursive: true });
  await fs.mkdir(REGISTRY_STORAGE, { recursive: true });
  await writeIfChanged(REGISTRY_CONFIG, await fs.readFile(REGISTRY_CONFIG_SOURCE, "utf8"));
  const started = await startService({
    name: "registry",
    cmd: "docker-registry",
    args: ["serve", REGISTRY_CONFIG],
    answers: async () => (await httpStatus(`http://${LOCAL_REGISTRY}/v2/`, 1000)) === 200,
    timeoutMs: 30_000,
  });
  return `started docker-registry on ${LOCAL_REGISTRY} (pid ${started.pid}, storage ${REGISTRY_STORAGE}, log ${LOG_DIR}/registry.log)`;
}

/** dockerd lives in /usr/sbin, which is not on every PATH. */
async function sbin(name: string): Promise<string> {
  for (const dir of ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]) {
    const file = path.join(dir, name);
    if (await fs.access(file).then(() => true, () => false)) return file;
  }
  return name;
}

async function writeIfChanged(file: string, content: string): Promise<boolean> {
  const current = await fs.readFile(file, "utf8").catch(() => undefined);
  if (current === content) return false;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeAtomic(file, content);
  return true;
}

/** Writes the apt source and pins, then installs exactly the pinned versions. */
async function installPackages(pins: Pins, needs: PackageNeed[], say: (line: string) => void): Promise<void> {
  const host = parseOsRelease(await fs.readFile("/etc/os-release", "utf8"));
  const sources = renderSources(pins, host);
  if (sources) await writeIfChanged(APT_SOURCES_FILE, sources);
  await writeIfChanged(APT_PREFERENCES_FILE, renderPreferences(pins, host));
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  say(`updating apt indices (${sources ? "with " + APT_SOURCES_FILE : "host sources"})`);
  await aptRun(["update", "-q"], env, "apt-get update");
  const choice = await chooseFromMirror(needs);
  if (choice.vanished.length) {
    for (const line of choice.vanished) process.stderr.write(`kiln engine setup: ${line}\n`);
    throw new KilnError(
      choice.vanished.length === 1 ? choice.vanished[0]! : `${choice.vanished.length} pinned package versions are no longer on the mirror (listed above)`,
      choice.vanished.length === 1 ? undefined : `update them in ${PINS_FILE}`,
    );
  }
  for (const note of choice.notes) say(note);
  say(`installing ${choice.install.length} pinned package(s): ${choice.install.join(" ")}`);
  const createdPolicy = await blockServiceStarts();
  try {
    const t = performance.now();
    await aptRun(["install", "-y", "-q", "--allow-downgrades", ...choice.install], env, "apt-get install");
    say(`installed in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  } finally {
    if (createdPolicy) await fs.rm(POLICY_RC_D, { force: true });
  }
}

/** What to install for the needs, from the versions apt's indices offer now (apt-cache madison). */
export async function chooseFromMirror(needs: PackageNeed[]): Promise<InstallChoice> {
  const madison = await run("apt-cache", ["madison", ...needs.map((n) => n.name)], { what: "apt-cache madison", allowFailure: true });
  const offers = parseMadison(madison.stdout.toString());
  const pairs = needs.filter((n) => n.anyVersion).flatMap((n) => {
    const offered = (offers.get(n.name) ?? []).map((o) => o.version);
    return offered.flatMap((a) => offered.map((b) => [a, b] as [string, string]));
  });
  return chooseInstall(needs, offers, await debianVersionComparer(pairs));
}

/** A policy-rc.d exiting 101 keeps package scripts from starting services (there is no init system to own them). */
async function blockServiceStarts(): Promise<boolean> {
  if (await fs.access(POLICY_RC_D).then(() => true, () => false)) return false;
  await fs.writeFile(POLICY_RC_D, "#!/bin/sh\n# kiln engine setup: no service starts during package installation\nexit 101\n", { mode: 0o755 });
  return true;
}

async function aptRun(args: string[], env: NodeJS.ProcessEnv, what: string): Promise<void> {
  const r = await run("apt-get", args, { what, env, allowFailure: true });
  if (r.code === 0) return;
  const lines = (r.stdout.toString() + r.stderr).split("\n").filter((l) => l.trim()).slice(-15);
  process.stderr.write(`--- last lines of ${what} ---\n${lines.join("\n")}\n---\n`);
  const last = r.stderr.split("\n").filter((l) => l.startsWith("E:")).pop() ?? lines.at(-1) ?? `exit code ${r.code}`;
  throw new KilnError(`${what} failed: ${last}`, "see the lines above");
}
