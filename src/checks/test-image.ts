/**
 * `kiln test`: static policy on the stored image, then, per platform, a run
 * under the hardened profile: health, declared command tests, probes of the
 * declared ports. Everything it starts or loads is removed afterwards.
 */
import { loadImage } from "../definition/catalog.ts";
import type { RuntimeExpectations } from "../definition/schema.ts";
import { KilnError } from "../errors.ts";
import type { ImageConfig } from "../oci/diff.ts";
import { readLayer, squash } from "../oci/layers.ts";
import { loadImage as loadIntoDocker } from "../oci/publish.ts";
import type { OciManifest, OciStore, StoredImage } from "../oci/store.ts";
import { defaultTargetOf, splitRef } from "../plan/plan.ts";
import { loadClientImages, resolveClientImages } from "./client-images.ts";
import { nativePlatform } from "./client-plan.ts";
import { runScenario } from "./client-tests.ts";
import * as docker from "./docker.ts";
import { runtimeOf } from "./images.ts";
import { checkPolicy } from "./policy.ts";
import { httpProbe, metricsProbe, tcpProbe, type ProbeOutcome } from "./probes.ts";
import type { CheckResult } from "./results.ts";
import { judgeRun } from "./run-outcome.ts";

export interface TestOptions {
  /** `name` or `name:target` */
  ref: string;
  store: OciStore;
  root: string;
  platforms?: string[];
  /** Only the static policy; start nothing. */
  staticOnly?: boolean;
  healthTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Called as each check finishes (for live output). */
  onResult?: (r: CheckResult) => void;
  /** Called once the tested image is known: its `name:target` and index digest. */
  onImage?: (ref: string, digest: string) => void;
}

export async function testImage(opts: TestOptions): Promise<CheckResult[]> {
  const { image: name, target: asked } = splitRef(opts.ref);
  const image = await loadImage(name, opts.root);
  const target = asked ?? defaultTargetOf(image);
  if (!(target in image.def.targets)) throw new KilnError(`image ${name} has no target "${target}"`, `targets: ${Object.keys(image.def.targets).join(", ")}`);
  const ref = `${name}:${target}`;
  const runtime = runtimeOf(image.def, target);
  const stored = await opts.store.require(ref);
  opts.onImage?.(ref, stored.digest);
  const platforms = opts.platforms ?? Object.keys(stored.manifests).sort();
  for (const p of platforms) {
    if (!stored.manifests[p]) throw new KilnError(`${ref} has no ${p} image in the store (it has ${Object.keys(stored.manifests).join(", ")})`, `build it: kiln build ${ref} --platform ${p}`);
  }
  const clients = opts.staticOnly ? undefined : await resolveClientImages(image, target, runtime, opts.store, opts.root);
  const results: CheckResult[] = [];
  const report = (r: CheckResult) => {
    results.push(r);
    opts.onResult?.(r);
  };

  for (const platform of platforms) {
    const started = Date.now();
    const manifest = await opts.store.readJson<OciManifest>(stored.manifests[platform]!.digest);
    const config = await opts.store.readJson<ImageConfig>(manifest.config);
    const layers = [];
    for (const l of manifest.layers) layers.push(await readLayer(opts.store, l, { keepContentBytes: 0 }));
    const files = squash(layers);
    const ms = Date.now() - started;
    for (const c of checkPolicy({ config, manifest, files, runtime })) report({ ...c, name: c.rule, subject: `${ref} ${platform}`, durationMs: ms });
  }
  if (opts.staticOnly) return results;

  // Fully qualified: docker load keeps the name as written, and `docker run` looks up docker.io/...
  const tag = `docker.io/kiln-test/${name}:${docker.uniqueName(target)}`;
  const loaded = new Map<string, string>([[stored.digest, tag]]);
  docker.track(tag, ["rmi", "--force", tag]);
  try {
    await loadIntoDocker(opts.store, stored.digest, [tag]);
    const tagOf = await loadClientImages(opts.store, clients ?? new Map(), loaded);
    for (const platform of platforms) await runChecks({ ...opts, ref, tag, platform, runtime, stored, report, dir: image.dir, tagOf });
  } finally {
    for (const t of [...loaded.values()].reverse()) await docker.removeImage(t);
  }
  return results;
}

interface RunContext extends TestOptions {
  tag: string;
  /** The definition's folder. */
  dir: string;
  /** Engine tag of each client or fixture image. */
  tagOf: (ref: string) => string;
  platform: string;
  runtime: RuntimeExpectations;
  stored: StoredImage;
  report: (r: CheckResult) => void;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = Date.now();
  const v = await f();
  return [v, Date.now() - t];
}

async function runChecks(ctx: RunContext): Promise<void> {
  const { runtime, platform } = ctx;
  const subject = `${ctx.ref} ${platform}`;
  const profile: docker.HardenedProfile = { user: runtime.user, platform, volumes: runtime.volumes, env: runtime.env, privileges: runtime.privileges };
  const config = await imageConfig(ctx);
  const hasHealthcheck = !!config.config?.Healthcheck?.Test?.length && config.config.Healthcheck.Test[0] !== "NONE";
  const probes = plannedProbes(runtime);
  // An image with nothing to serve (a tool, or a base that declares no healthcheck and no probes)
  // only runs its command tests, which use the same hardened profile.
  const serve = hasHealthcheck || probes.length > 0 || (!runtime.tooling && runtime.healthcheck);
  if (serve && runtime.standalone) {
    const [started, ms] = await timed(() => docker.startContainer(ctx.tag, profile));
    if ("error" in started) {
      ctx.report({ rule: "hardened-run", name: "hardened-run", subject, ok: false, message: `docker run failed: ${started.error}`, durationMs: ms });
    } else {
      try {
        await serviceChecks(ctx, started.id, hasHealthcheck, probes, subject);
      } finally {
        await docker.removeContainer(started.id);
      }
    }
  }
  for (const t of runtime.tests) {
    const timeoutMs = ctx.commandTimeoutMs ?? 120_000;
    const [r, ms] = await timed(() => docker.runOnce(ctx.tag, profile, t.command, t.entrypoint, timeoutMs));
    const v = judgeRun(r, { ...t, timeoutMs });
    ctx.report({ rule: "command-test", name: t.name, subject, ok: v.ok, message: v.message, ...(v.ok ? {} : { details: v.tail }), durationMs: ms });
  }
  for (const [i, scenario] of runtime.clients.entries()) {
    // An image that cannot serve alone is judged serving on its first scenario's service.
    const onServiceReady = serve && !runtime.standalone && i === 0 ? (id: string) => serviceChecks(ctx, id, hasHealthcheck, probes, subject) : undefined;
    const scenarioContext = {
      ...(onServiceReady ? { onServiceReady } : {}),
      ref: ctx.ref,
      platform,
      nativePlatform: nativePlatform(),
      runtime,
      definitionDir: ctx.dir,
      storeDir: ctx.store.dir,
      serviceTag: ctx.tag,
      tagOf: ctx.tagOf,
      hasHealthcheck,
      healthTimeoutMs: ctx.healthTimeoutMs ?? 120_000,
      report: ctx.report,
    };
    await runScenario(scenarioContext, scenario);
  }
}

async function imageConfig(ctx: RunContext): Promise<ImageConfig> {
  const manifest = await ctx.store.readJson<OciManifest>(ctx.stored.manifests[ctx.platform]!.digest);
  return ctx.store.readJson<ImageConfig>(manifest.config);
}

interface PlannedProbe {
  name: string;
  kind: "tcp" | "http" | "metrics";
  port: number;
  path: string;
  status: number;
  bodyContains: string[];
}

/** Declared probes, the metrics endpoint, and a TCP probe for every declared port nothing else probes. */
export function plannedProbes(runtime: RuntimeExpectations): PlannedProbe[] {
  const out: PlannedProbe[] = [...runtime.probes];
  const m = runtime.metrics;
  if (m && !out.some((p) => p.kind === "metrics" && p.port === m.port)) out.push({ name: "metrics", kind: "metrics", port: m.port, path: m.path, status: 200, bodyContains: [] });
  for (const port of runtime.ports) {
    if (!out.some((p) => p.port === port)) out.push({ name: `port ${port}`, kind: "tcp", port, path: "/", status: 200, bodyContains: [] });
  }
  return out;
}

async function serviceChecks(ctx: RunContext, id: string, hasHealthcheck: boolean, probes: PlannedProbe[], subject: string): Promise<void> {
  const [h, ms] = await timed(() => docker.waitStarted(id, hasHealthcheck, ctx.healthTimeoutMs ?? 120_000));
  if (hasHealthcheck) {
    ctx.report(
      h.ok
        ? { rule: "healthy", name: "healthy", subject, ok: true, message: `healthy after ${(h.waitedMs / 1000).toFixed(1)}s`, durationMs: ms }
        : { rule: "healthy", name: "healthy", subject, ok: false, message: h.reason, details: h.log.slice(-10), durationMs: ms },
    );
  } else if (!h.ok) {
    ctx.report({ rule: "hardened-run", name: "hardened-run", subject, ok: false, message: h.reason, details: h.log });
  }
  if (!h.ok) return;
  const granted = ctx.runtime.privileges;
  const extra = granted ? `; granted only ${docker.privilegeArgs(granted).join(" ")} (${granted.reason})` : "";
  ctx.report({ rule: "hardened-run", name: "hardened-run", subject, ok: true, message: `runs as ${ctx.runtime.user} with a read-only root, ${granted ? "dropped capabilities" : "no capabilities"}, no-new-privileges${extra}` });
  const ip = await docker.containerIp(id);
  for (const p of probes) {
    if (!ip) {
      ctx.report({ rule: `probe-${p.kind}`, name: p.name, subject, ok: false, message: "the container has no IP address on the bridge network" });
      continue;
    }
    const [outcome, ms] = await timed(() => retryProbe(() => probeOnce(p, ip), hasHealthcheck ? 3 : 10));
    ctx.report({ rule: `probe-${p.kind}`, name: p.name, subject, ...outcome, durationMs: ms });
  }
}

function probeOnce(p: PlannedProbe, ip: string): Promise<ProbeOutcome> {
  const url = `http://${ip}:${p.port}${p.path}`;
  if (p.kind === "tcp") return tcpProbe(ip, p.port);
  if (p.kind === "http") return httpProbe(url, p);
  return metricsProbe(url);
}

/** Services may open their ports a moment after they start: retry for a few seconds. */
async function retryProbe(f: () => Promise<ProbeOutcome>, seconds: number): Promise<ProbeOutcome> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const o = await f();
    if (o.ok || Date.now() > until) return o;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
