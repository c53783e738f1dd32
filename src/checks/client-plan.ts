/**
 * Planning a client scenario (`runtime.clients`): which network, volumes and
 * containers it makes and the exact docker command lines, as pure data, so
 * what `kiln test` will start can be read and tested without an engine.
 */
import os from "node:os";
import path from "node:path";
import { CLIENT_MOUNTS, SERVICE_ALIAS, type ClientScenario, type FixtureReadiness, type RuntimeExpectations } from "../definition/schema.ts";
import { hardenedArgs, lockdownArgs, TEST_LABEL } from "./docker.ts";

/** Something the scenario creates: how, and how to remove it (also on SIGINT). */
export interface Created {
  /** The engine name; also the tracking key. */
  key: string;
  create: string[];
  remove: string[];
}

export interface PlannedFixture extends Created {
  alias: string;
  ready?: FixtureReadiness;
  start: "before-service" | "after-service";
}

export interface PlannedStep {
  name: string;
  argv: string[];
  /** The container a `docker run --rm` step creates (tracked while it runs); none for `docker exec`. */
  container?: string;
  restart: boolean;
  exitCode: number;
  outputContains: string[];
  outputExcludes: string[];
  timeoutMs: number;
}

export interface ScenarioPlan {
  name: string;
  network: Created;
  volumes: Created[];
  fixtures: PlannedFixture[];
  service: Created;
  steps: PlannedStep[];
}

export interface ScenarioPlanInput {
  scenario: ClientScenario;
  runtime: RuntimeExpectations;
  /** `name:target` under test. */
  ref: string;
  /** Absolute folder of the definition (files and test/ come from here). */
  definitionDir: string;
  /** kiln's OCI store, for `mount: ["store"]`. */
  storeDir: string;
  /** The platform under test: the service runs on it; fixtures and clients run on `nativePlatform`. */
  platform: string;
  nativePlatform: string;
  /** The engine tag of the image under test. */
  serviceTag: string;
  /** The engine tag each client or fixture image (a catalog ref) was loaded under. */
  tagOf: (ref: string) => string;
  /** Unique prefix of every name the scenario makes. */
  id: string;
}

/** The engine's own platform, where clients and fixtures run without emulation. */
export function nativePlatform(arch = os.arch()): string {
  return `linux/${arch === "x64" ? "amd64" : arch}`;
}

/** Each catalog image a scenario runs besides the one under test, with the field that names it. */
export function clientImagesOf(scenario: ClientScenario): { ref: string; field: (string | number)[] }[] {
  const uses: { ref: string; field: (string | number)[] }[] = [];
  for (const [alias, f] of Object.entries(scenario.fixtures)) uses.push(f.image ? { ref: f.image, field: ["fixtures", alias, "image"] } : { ref: scenario.client, field: ["client"] });
  scenario.steps.forEach((s, i) => {
    if (s.in === undefined) uses.push(s.client ? { ref: s.client, field: ["steps", i, "client"] } : { ref: scenario.client, field: ["client"] });
  });
  return uses.filter((u, i) => uses.findIndex((o) => o.ref === u.ref && o.field.join() === u.field.join()) === i);
}

/** `--mount` for a read-only bind or volume; fields holding a comma or quote are CSV-quoted, as docker parses them. */
export function mountArg(type: "bind" | "volume", source: string, target: string): string[] {
  const field = (k: string, v: string) => (/[,"]/.test(v) ? `"${k}=${v.replaceAll('"', '""')}"` : `${k}=${v}`);
  return ["--mount", [`type=${type}`, field("source", source), field("target", target), "readonly"].join(",")];
}

function fileMounts(files: Record<string, string>, definitionDir: string): string[] {
  return Object.entries(files).flatMap(([target, source]) => mountArg("bind", path.resolve(definitionDir, source), target));
}

const envArgs = (env: Record<string, string>) => Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);

/** `docker run` arguments for an entrypoint/command override, as in a compose file: `--entrypoint` takes one word. */
function commandLine(tag: string, entrypoint: string[] | undefined, command: string[] | undefined): string[] {
  const ep = entrypoint ? ["--entrypoint", entrypoint[0] ?? ""] : [];
  return [...ep, tag, ...(entrypoint?.slice(1) ?? []), ...(command ?? [])];
}

export function planScenario(input: ScenarioPlanInput): ScenarioPlan {
  const { scenario, runtime, id } = input;
  const label = ["--label", `${TEST_LABEL}=1`];
  const network: Created = { key: id, create: ["network", "create", ...label, ...(scenario.egress ? [] : ["--internal"]), id], remove: ["network", "rm", id] };
  const volumes = runtime.volumes.map((target, i) => {
    const key = `${id}-vol${i}`;
    return { target, key, create: ["volume", "create", ...label, key], remove: ["volume", "rm", "--force", key] };
  });
  const onNetwork = (alias: string) => ["--network", id, "--network-alias", alias];

  const fixtures = Object.entries(scenario.fixtures).map(([alias, f]): PlannedFixture => {
    const key = `${id}-${alias}`;
    const create = [
      "run",
      "--detach",
      "--name",
      key,
      ...onNetwork(alias),
      ...lockdownArgs(input.nativePlatform, f.user),
      ...envArgs(f.env),
      ...fileMounts(f.files, input.definitionDir),
      ...commandLine(input.tagOf(f.image ?? scenario.client), f.entrypoint, f.command),
    ];
    return { alias, key, create, remove: ["rm", "--force", "--volumes", key], start: f.start, ...(f.ready ? { ready: f.ready } : {}) };
  });

  const serviceKey = `${id}-${SERVICE_ALIAS}`;
  const profile = {
    user: runtime.user,
    platform: input.platform,
    volumes: volumes.map((v) => `${v.key}:${v.target}`),
    env: { ...runtime.env, ...scenario.env },
    privileges: runtime.privileges,
  };
  const service: Created = {
    key: serviceKey,
    create: ["run", "--detach", "--name", serviceKey, ...onNetwork(SERVICE_ALIAS), ...hardenedArgs(profile), ...fileMounts(scenario.files, input.definitionDir), input.serviceTag],
    // Named volumes outlive the container: a restart gets them back.
    remove: ["rm", "--force", "--volumes", serviceKey],
  };

  const builtIn = { KILN_PLATFORM: input.platform, KILN_IMAGE: input.ref };
  const steps = scenario.steps.map((s, i): PlannedStep => {
    const expect = { exitCode: s.exitCode, outputContains: s.outputContains, outputExcludes: s.outputExcludes, timeoutMs: s.timeoutSeconds * 1000 };
    if (s.serviceLog) return { name: s.name, argv: ["logs", serviceKey], restart: s.restart, ...expect };
    const command = s.command!;
    const env = envArgs({ ...builtIn, ...s.env });
    if (s.in !== undefined) {
      const target = s.in === SERVICE_ALIAS ? serviceKey : `${id}-${s.in}`;
      return { name: s.name, argv: ["exec", ...env, target, ...command], restart: s.restart, ...expect };
    }
    const container = `${id}-step${i}`;
    const mounts = [
      ...s.mount.flatMap((m) => mountArg("bind", m === "store" ? input.storeDir : path.join(input.definitionDir, "test"), CLIENT_MOUNTS[m])),
      ...s.volumes.flatMap((target) => mountArg("volume", volumes.find((v) => v.target === target)!.key, target)),
    ];
    const argv = [
      "run",
      "--rm",
      "--name",
      container,
      "--network",
      id,
      ...lockdownArgs(input.nativePlatform),
      ...env,
      ...mounts,
      ...commandLine(input.tagOf(s.client ?? scenario.client), [command[0]!], command.slice(1)),
    ];
    return { name: s.name, argv, container, restart: s.restart, ...expect };
  });

  return { name: scenario.name, network, volumes: volumes.map(({ key, create, remove }) => ({ key, create, remove })), fixtures, service, steps };
}
