/**
 * `kiln engine setup` and `kiln engine status` on the real host: setup is
 * idempotent and fast once everything is up (it accepts a daemon and registry
 * it did not start), both services answer afterwards, status says which
 * driver and why, and an unreachable engine is one line with a non-zero exit.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KilnError } from "../../src/errors.ts";
import { requireEngine } from "../../src/engine/detect.ts";
import { httpStatus } from "../../src/engine/probe.ts";
import { settingsSchema } from "../../src/settings/schema.ts";
import { startService } from "../../src/engine/services.ts";
import { chooseFromMirror } from "../../src/engine/setup.ts";
import { kiln, runCommand } from "./helpers.ts";

async function registryStatus(): Promise<number> {
  const res = await fetch("http://127.0.0.1:5000/v2/", { headers: { connection: "close" } });
  await res.body?.cancel();
  return res.status;
}

describe("kiln engine setup", () => {
  it("is idempotent: a second run finds everything up and returns in about a second", async () => {
    const first = await kiln(["engine", "setup"]);
    expect(first.stderr).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^engine ready: /);

    const started = performance.now();
    const second = await kiln(["engine", "setup"]);
    const wallMs = performance.now() - started;
    expect(second.code, second.stderr).toBe(0);
    // Nothing to do: no progress lines, one summary with setup's own time.
    expect(second.stderr).toBe("");
    const m = second.stdout.match(/^engine ready: everything was already up \((\d+\.\d) s\)\n$/);
    expect(m, second.stdout).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(1.5);
    // Wall clock includes starting node + tsx; generous for a loaded 2-core machine.
    expect(wallMs).toBeLessThan(20_000);

    // Both services answer.
    const info = await runCommand("docker", ["info", "--format", "{{json .DriverStatus}}"]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain("io.containerd.snapshotter.v1");
    expect(await registryStatus()).toBe(200);
  });
});

describe("kiln engine status", () => {
  it("reports buildx on the local docker engine, why, and its capabilities", async () => {
    const r = await kiln(["engine", "status", "--json"], { BUILDKIT_HOST: "", KILN_DRIVER: "" });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ usable: true, driver: "buildx", ociExport: true, multiPlatform: true, target: { driver: "buildx" } });
    expect(report.why).toMatch(/^BUILDKIT_HOST is not set; docker buildx \S+ works and the docker daemon answers at unix:\/\//);
    expect(report.engine.platforms).toEqual(expect.arrayContaining(["linux/amd64", "linux/arm64"]));
    expect(report.binfmt).toMatchObject({ entry: "qemu-aarch64", mounted: true, enabled: true, fixBinary: true });
    expect(report.registry).toMatchObject({ address: "127.0.0.1:5000", answers: true });

    const text = await kiln(["engine", "status"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("engine:     usable (buildx)\n");
    expect(text.stdout).toContain("oci export: yes\n");
  });

  it("says in one line that no engine answers, with a non-zero exit", async () => {
    const r = await kiln(["engine", "status"], { DOCKER_HOST: "unix:///nonexistent" });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "kiln: no BuildKit engine answers: docker daemon not reachable at unix:///nonexistent (no socket there); run `kiln engine setup` (Debian/Ubuntu, root) or set BUILDKIT_HOST to a buildkitd\n",
    );
  });

  it("names the missing buildkitd when the buildctl driver is forced", async () => {
    const r = await kiln(["engine", "status"], { KILN_DRIVER: "buildctl", BUILDKIT_HOST: "tcp://127.0.0.1:1" });
    expect(r.code).not.toBe(0);
    expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    // No buildctl is packaged in Debian: the message says so (or, where one exists, that it does not answer).
    expect(r.stderr).toMatch(/^kiln: (the buildctl driver is chosen but no buildctl binary is installed|no BuildKit engine answers: buildkitd not reachable at tcp:\/\/127\.0\.0\.1:1)/);
  });
});

describe("requireEngine", () => {
  it("returns the buildx target here, and a one-line KilnError for an unreachable daemon", async () => {
    const saved = process.env.DOCKER_HOST;
    try {
      delete process.env.DOCKER_HOST;
      expect(await requireEngine(settingsSchema.parse({}))).toEqual({ driver: "buildx", builder: undefined, tls: {} });
      process.env.DOCKER_HOST = "unix:///nonexistent";
      const err = await requireEngine(settingsSchema.parse({})).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).toLine()).toBe(
        "no BuildKit engine answers: docker daemon not reachable at unix:///nonexistent (no socket there); run `kiln engine setup` (Debian/Ubuntu, root) or set BUILDKIT_HOST to a buildkitd",
      );
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});

describe("starting services and choosing packages (no change to the shared host)", () => {
  it("starts a detached registry on another port, waits until it answers, and it outlives the wait", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-engine-"));
    const port = 15000 + (process.pid % 1000);
    const config = path.join(dir, "registry.yml");
    await fs.writeFile(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
    const url = `http://127.0.0.1:${port}/v2/`;
    const started = await startService({ name: "registry", cmd: "docker-registry", args: ["serve", config], answers: async () => (await httpStatus(url)) === 200, timeoutMs: 30_000, logDir: dir });
    try {
      expect(started.pid).toBeGreaterThan(0);
      expect(await httpStatus(url)).toBe(200);
    } finally {
      process.kill(started.pid, "SIGTERM");
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("fails fast with the log's last lines when the service exits right away", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-engine-"));
    try {
      const attempt = startService({ name: "registry", cmd: "docker-registry", args: ["serve", path.join(dir, "missing.yml")], answers: async () => false, timeoutMs: 20_000, logDir: dir });
      await expect(attempt).rejects.toThrow(KilnError);
      await expect(attempt).rejects.toThrow(/^registry exited with code \d+ right after starting$/);
      expect(await fs.readFile(path.join(dir, "registry.log"), "utf8")).toContain("missing.yml");
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("names a pinned version the mirror no longer offers, with what it offers and where to update the pin", async () => {
    const choice = await chooseFromMirror([
      { name: "skopeo", want: "1.9.3+ds1-1+b10", suite: "bookworm", anyVersion: false },
      { name: "docker-buildx", want: "0.13.0+ds1-1", suite: "trixie", anyVersion: false },
      { name: "curl", want: "7.88.1-10+deb12u1", suite: "bookworm", anyVersion: true },
    ]);
    expect(choice.install[0]).toBe("skopeo=1.9.3+ds1-1+b10");
    // An anyVersion pin whose version is gone takes the newest of its own release.
    expect(choice.install[1]).toMatch(/^curl=\d/);
    expect(choice.install[1]).not.toBe("curl=7.88.1-10+deb12u1");
    expect(choice.vanished).toHaveLength(1);
    expect(choice.vanished[0]).toMatch(/^docker-buildx 0\.13\.0\+ds1-1 is no longer on the mirror \(the mirror offers 0\.13\.1\+ds1-3\): set its "version" in \S+hack\/engine\/packages\.json/);
  });
});
