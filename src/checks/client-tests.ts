/**
 * Running client scenarios (`runtime.clients`, rule `client-test`): the
 * service under test, hardened, on a private network with its fixtures, then
 * the steps in order, each judged by exit code and output. Everything a
 * scenario makes is removed afterwards, also on failure and on a signal.
 */
import { randomBytes } from "node:crypto";
import type { ClientScenario, FixtureReadiness, RuntimeExpectations } from "../definition/schema.ts";
import * as docker from "./docker.ts";
import { planScenario, type Created, type PlannedFixture, type PlannedStep, type ScenarioPlan } from "./client-plan.ts";
import { tcpProbe } from "./probes.ts";
import type { CheckResult } from "./results.ts";
import { judgeRun } from "./run-outcome.ts";

export const CLIENT_RULE = "client-test";
/** Step output kept for the JUnit report, from the end. */
const KEPT_OUTPUT = 64 * 1024;

export interface ScenarioContext {
  ref: string;
  platform: string;
  nativePlatform: string;
  runtime: RuntimeExpectations;
  definitionDir: string;
  storeDir: string;
  serviceTag: string;
  tagOf: (ref: string) => string;
  hasHealthcheck: boolean;
  healthTimeoutMs: number;
  report: (r: CheckResult) => void;
  /** Runs once the scenario is set up, with the service container's name (`runtime.standalone: false`: its health and probes). */
  onServiceReady?: (container: string) => Promise<void>;
}

type Outcome = { ok: true; message: string } | { ok: false; message: string; details: string[] };

export async function runScenario(ctx: ScenarioContext, scenario: ClientScenario): Promise<void> {
  const id = `kiln-test-${process.pid}-${randomBytes(4).toString("hex")}`;
  const plan = planScenario({ ...ctx, scenario, id });
  const subject = `${ctx.ref} ${ctx.platform}`;
  const report = (name: string, o: Outcome, durationMs: number, output?: string) =>
    ctx.report({ rule: CLIENT_RULE, name: `${scenario.name} / ${name}`, subject, ok: o.ok, message: o.message, ...(o.ok ? {} : { details: o.details }), durationMs, ...(output ? { output } : {}) });
  const made: Created[] = [];
  try {
    const started = Date.now();
    const setup = await setUp(ctx, plan, made);
    report("setup", setup, Date.now() - started);
    if (!setup.ok) return;
    await ctx.onServiceReady?.(plan.service.key);
    for (const [i, step] of plan.steps.entries()) {
      const t = Date.now();
      const o = await runStep(ctx, plan, step);
      const notRun = plan.steps.slice(i + 1).map((s) => s.name);
      if (!o.ok && notRun.length) o.details.push(`not run: ${notRun.join(", ")}`);
      report(step.name, o, Date.now() - t, o.output);
      if (!o.ok) return;
    }
  } finally {
    for (const c of made.reverse()) await docker.removeTracked(c.key);
  }
}

/** Network, volumes, fixtures that start first, the service (waited ready), the fixtures that start after it. */
async function setUp(ctx: ScenarioContext, plan: ScenarioPlan, made: Created[]): Promise<Outcome> {
  const create = async (c: Created, what: string): Promise<Outcome | undefined> => {
    made.push(c);
    const r = await docker.createTracked(c.key, c.create, c.remove);
    return "error" in r ? { ok: false, message: `${what}: ${r.error}`, details: [] } : undefined;
  };
  const notes: string[] = [];
  const failed = (await create(plan.network, "docker network create")) ?? (await firstFailure(plan.volumes, (v) => create(v, "docker volume create")));
  if (failed) return failed;
  const startFixtures = (which: PlannedFixture["start"]) =>
    firstFailure(
      plan.fixtures.filter((f) => f.start === which),
      async (f) => {
        const bad = await create(f, `fixture ${f.alias}: docker run`);
        if (bad || !f.ready) return bad;
        const r = await waitReady(f, f.ready);
        if (!r.ok) return { ok: false, message: `fixture ${f.alias} not ready: ${r.reason}`, details: r.log.slice(-10) };
        notes.push(`${f.alias} ready after ${seconds(r.waitedMs)}`);
        return undefined;
      },
    );
  const beforeFailed = await startFixtures("before-service");
  if (beforeFailed) return beforeFailed;
  made.push(plan.service);
  const service = await startService(ctx, plan);
  if (!service.ok) return service;
  notes.push(service.message);
  const afterFailed = await startFixtures("after-service");
  if (afterFailed) return afterFailed;
  return { ok: true, message: notes.join(", ") };
}

async function firstFailure<T>(items: T[], f: (item: T) => Promise<Outcome | undefined>): Promise<Outcome | undefined> {
  for (const item of items) {
    const o = await f(item);
    if (o) return o;
  }
  return undefined;
}

async function startService(ctx: ScenarioContext, plan: ScenarioPlan): Promise<Outcome> {
  const r = await docker.createTracked(plan.service.key, plan.service.create, plan.service.remove);
  if ("error" in r) return { ok: false, message: `service: docker run failed: ${r.error}`, details: [] };
  const h = await docker.waitStarted(plan.service.key, ctx.hasHealthcheck, ctx.healthTimeoutMs);
  if (!h.ok) return { ok: false, message: `service: ${h.reason}`, details: h.log.slice(-10) };
  return { ok: true, message: `service ${ctx.hasHealthcheck ? "healthy" : "running"} after ${seconds(h.waitedMs)}` };
}

/** Stops the service gracefully and starts a new one on the same named volumes. */
async function restartService(ctx: ScenarioContext, plan: ScenarioPlan): Promise<Outcome> {
  const stop = await docker.stopContainer(plan.service.key);
  if (stop) return { ok: false, message: `restart: docker stop failed: ${stop}`, details: [] };
  await docker.removeTracked(plan.service.key);
  const started = await startService(ctx, plan);
  return started.ok ? started : { ...started, message: `restart: ${started.message}` };
}

async function runStep(ctx: ScenarioContext, plan: ScenarioPlan, step: PlannedStep): Promise<Outcome & { output?: string }> {
  let restarted = "";
  if (step.restart) {
    const r = await restartService(ctx, plan);
    if (!r.ok) return r;
    restarted = ` (after a restart: ${r.message})`;
  }
  const r = await docker.runToCompletion(step.argv, step.timeoutMs, step.container);
  const v = judgeRun(r, step);
  const output = r.output.length > KEPT_OUTPUT ? r.output.slice(-KEPT_OUTPUT) : r.output;
  return v.ok ? { ok: true, message: v.message + restarted, output } : { ok: false, message: v.message, details: v.tail, output };
}

type Ready = { ok: true; waitedMs: number } | { ok: false; reason: string; log: string[] };

/** Polls a fixture until its readiness test passes; fails early when it exits. */
async function waitReady(f: PlannedFixture, ready: FixtureReadiness): Promise<Ready> {
  if (ready.healthy) return docker.waitHealthy(f.key, ready.timeoutSeconds * 1000);
  const started = Date.now();
  let last = "";
  for (;;) {
    const s = await docker.inspectState(f.key);
    if (!s.Running) return { ok: false, reason: `it exited with code ${s.ExitCode}`, log: await docker.containerLogs(f.key) };
    if (ready.port !== undefined) {
      const ip = await docker.containerIp(f.key);
      const o = ip ? await tcpProbe(ip, ready.port, 2000) : { ok: false, message: "no IP address on the scenario network" };
      if (o.ok) return { ok: true, waitedMs: Date.now() - started };
      last = o.message;
    } else {
      const r = await docker.runToCompletion(["exec", f.key, ...ready.command!], 10_000);
      if (r.code === 0 && !r.timedOut) return { ok: true, waitedMs: Date.now() - started };
      last = `${ready.command!.join(" ")}: ${r.timedOut ? "timed out" : `exit code ${r.code}`} ${r.output.trim().split("\n").pop() ?? ""}`.trim();
    }
    if (Date.now() - started > ready.timeoutSeconds * 1000) {
      return { ok: false, reason: `not ready after ${ready.timeoutSeconds}s (${last})`, log: await docker.containerLogs(f.key) };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
