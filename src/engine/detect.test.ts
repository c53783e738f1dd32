import { describe, expect, it } from "vitest";
import { fakeClock, recordingOutput } from "../../test/support/fake-clock.ts";
import { settingsSchema, type Settings } from "../settings/schema.ts";
import {
  buildctlConnectionArgs,
  decideEngine,
  detectEngine,
  foreignEmulator,
  parseBinfmtEntry,
  parseDockerInfo,
  parseWorkerPlatforms,
  type EngineProbes,
} from "./detect.ts";
import { formatEngineReport } from "./status.ts";

const settings = (engine: Record<string, unknown> = {}): Settings => settingsSchema.parse({ engine });

/** What this project's machines show: docker 26 with the containerd store, buildx 0.13, qemu-aarch64 with F, registry up. */
function probes(over: Partial<EngineProbes> = {}): EngineProbes {
  return {
    buildctl: { installed: false },
    buildx: { works: true, version: "0.13.1+ds1" },
    docker: { address: "unix:///var/run/docker.sock", answers: true, clientVersion: "26.1.5+dfsg1", serverVersion: "26.1.5+dfsg1", storageDriver: "overlayfs", containerdStore: true },
    builder: { name: "default", driver: "docker", status: "running", buildkitVersion: "v0.0.0+unknown", platforms: ["linux/amd64", "linux/arm64"] },
    binfmt: { entry: "qemu-aarch64", mounted: true, enabled: true, flags: "PF", fixBinary: true },
    registry: { address: "127.0.0.1:5000", answers: true, status: 200 },
    ...over,
  };
}

describe("decideEngine", () => {
  it("picks buildx with the docker driver when BUILDKIT_HOST is not set, and says why", () => {
    const r = decideEngine(settings(), probes());
    expect(r.usable).toBe(true);
    expect(r.driver).toBe("buildx");
    expect(r.why).toBe("BUILDKIT_HOST is not set; docker buildx 0.13.1+ds1 works and the docker daemon answers at unix:///var/run/docker.sock");
    expect(r.target).toEqual({ driver: "buildx", builder: undefined, tls: {} });
    expect(r.ociExport && r.multiPlatform).toBe(true);
    expect(r.engine?.buildkitVersion).toBeUndefined(); // v0.0.0+unknown is noise
    expect(r.warnings).toEqual([]);
  });

  it("picks buildctl when BUILDKIT_HOST is set and buildctl is installed", () => {
    const r = decideEngine(
      settings({ buildkitHost: "tcp://bk:1234", tls: { ca: "/ca.pem" } }),
      probes({ buildctl: { installed: true, version: "v0.13.2" }, buildkitd: { answers: true, version: "v0.13.2", platforms: ["linux/amd64", "linux/arm64"] } }),
    );
    expect(r.driver).toBe("buildctl");
    expect(r.usable).toBe(true);
    expect(r.why).toBe("BUILDKIT_HOST is set (tcp://bk:1234) and buildctl is installed");
    expect(r.target).toEqual({ driver: "buildctl", buildkitHost: "tcp://bk:1234", buildctl: "buildctl", tls: { ca: "/ca.pem" } });
    expect(r.multiPlatform).toBe(true);
  });

  it("falls back to buildx when BUILDKIT_HOST is set but buildctl is missing", () => {
    const r = decideEngine(settings({ buildkitHost: "tcp://bk:1234" }), probes());
    expect(r.driver).toBe("buildx");
    expect(r.why).toContain("no buildctl binary is installed");
  });

  it("reports an unreachable buildkitd with the address", () => {
    const r = decideEngine(settings({ buildkitHost: "tcp://bk:1234" }), probes({ buildctl: { installed: true }, buildkitd: { answers: false, error: "connection refused", platforms: [] } }));
    expect(r.usable).toBe(false);
    expect(r.problem).toBe("no BuildKit engine answers: buildkitd not reachable at tcp://bk:1234 (connection refused)");
  });

  it("says the docker daemon is not reachable, with its address and what to do", () => {
    const r = decideEngine(settings(), probes({ docker: { address: "unix:///nonexistent", answers: false, containerdStore: false } }));
    expect(r.usable).toBe(false);
    expect(r.problem).toBe("no BuildKit engine answers: docker daemon not reachable at unix:///nonexistent");
    expect(r.hint).toBe("run `kiln engine setup` (Debian/Ubuntu, root) or set BUILDKIT_HOST to a buildkitd");
  });

  it("tells a daemon that refuses this user apart from one that is not there", () => {
    const denied = "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock";
    const r = decideEngine(settings(), probes({ docker: { address: "unix:///var/run/docker.sock", answers: false, containerdStore: false, error: denied } }));
    expect(r.problem).toBe("no BuildKit engine answers: the docker daemon at unix:///var/run/docker.sock refuses this user (permission denied)");
    expect(r.hint).toContain("docker group");
  });

  it("is not usable when the docker driver lacks the containerd image store", () => {
    const r = decideEngine(settings(), probes({ docker: { ...probes().docker, containerdStore: false } }));
    expect(r.usable).toBe(false);
    expect(r.ociExport).toBe(false);
    expect(r.multiPlatform).toBe(false);
    expect(r.problem).toContain("cannot export OCI images");
    expect(r.state).toBe("not-capable");
    expect(r.hint).toContain("containerd-snapshotter");
  });

  it("trusts a docker-container builder to export OCI without the containerd store", () => {
    const r = decideEngine(
      settings({ builder: "kiln" }),
      probes({ docker: { ...probes().docker, containerdStore: false }, builder: { name: "kiln", driver: "docker-container", platforms: ["linux/amd64"] } }),
    );
    expect(r.usable).toBe(true);
    expect(r.target?.builder).toBe("kiln");
    expect(r.ociExport).toBe(true);
  });

  it("names a broken configured builder and how to check it", () => {
    const r = decideEngine(settings({ builder: "nope" }), probes({ builder: { platforms: [], error: "no builder \"nope\" found" } }));
    expect(r.usable).toBe(false);
    expect(r.problem).toBe('buildx builder nope is not usable: no builder "nope" found');
    expect(r.hint).toContain("docker buildx ls");
  });

  it("honours a forced driver", () => {
    const r = decideEngine(settings({ driver: "buildctl" }), probes());
    expect(r.usable).toBe(false);
    expect(r.why).toBe("settings choose the buildctl driver (engine.driver)");
    expect(r.problem).toContain("BUILDKIT_HOST");
  });

  it("warns about missing emulation and a silent registry, but stays usable", () => {
    const r = decideEngine(
      settings(),
      probes({ binfmt: { entry: "qemu-aarch64", mounted: true, enabled: true, flags: "P", fixBinary: false }, registry: { address: "127.0.0.1:5000", answers: false } }),
    );
    expect(r.usable).toBe(true);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toContain("without the F flag");
    expect(r.warnings[1]).toContain("127.0.0.1:5000 does not answer");
  });
});

const BUSY = { address: "unix:///var/run/docker.sock", answers: false, containerdStore: false, state: "busy" as const, socket: "accepts" as const, error: "docker: no answer (timed out)" };

describe("decideEngine: running, busy, not running, not capable", () => {
  it("calls a daemon whose probe timed out busy, not missing, and does not send the user to setup", () => {
    const r = decideEngine(settings(), probes({ docker: BUSY }));
    expect(r.usable).toBe(false);
    expect(r.state).toBe("busy");
    expect(r.busyWith).toBe("the docker daemon");
    expect(r.problem).toBe("the docker daemon at unix:///var/run/docker.sock is busy: it did not answer in time (docker: no answer (timed out))");
    expect(r.problem).not.toContain("not reachable");
    expect(r.hint).not.toContain("kiln engine setup");
  });

  it("calls a daemon with no socket, or a refused connection, not running, with the setup hint", () => {
    for (const [socket, words] of [["absent", "no socket there"], ["refused", "connection refused"]] as const) {
      const r = decideEngine(settings(), probes({ docker: { address: "unix:///var/run/docker.sock", answers: false, containerdStore: false, state: "down", socket } }));
      expect(r.state).toBe("not-running");
      expect(r.problem).toBe(`no BuildKit engine answers: docker daemon not reachable at unix:///var/run/docker.sock (${words})`);
      expect(r.hint).toContain("kiln engine setup");
    }
  });

  it("is busy when the daemon answers docker info but the builder probe times out", () => {
    const r = decideEngine(settings(), probes({ builder: { platforms: [], timedOut: true, error: "docker buildx inspect: no answer (timed out)" } }));
    expect(r.state).toBe("busy");
    expect(r.problem).toContain("docker buildx inspect did not answer in time");
  });

  it("calls a buildkitd that accepts connections but does not answer busy", () => {
    const r = decideEngine(
      settings({ buildkitHost: "tcp://bk:1234" }),
      probes({ buildctl: { installed: true }, buildkitd: { answers: false, state: "busy", error: "buildctl: no answer (timed out)", platforms: [] } }),
    );
    expect(r).toMatchObject({ state: "busy", busyWith: "buildkitd at tcp://bk:1234", usable: false });
    const down = decideEngine(settings({ buildkitHost: "tcp://bk:1234" }), probes({ buildctl: { installed: true }, buildkitd: { answers: false, state: "down", error: "connection refused", platforms: [] } }));
    expect(down.state).toBe("not-running");
  });

  it("says an answering daemon without OCI export or multi-platform is not capable, and a good one usable", () => {
    expect(decideEngine(settings(), probes({ docker: { ...probes().docker, containerdStore: false } })).state).toBe("not-capable");
    expect(decideEngine(settings(), probes()).state).toBe("usable");
  });
});

describe("detectEngine waits for a busy engine", () => {
  /** Probes that report busy `busyTimes` times (each taking its 5 s timeout), then answer. */
  function sequence(busyTimes: number, clock: ReturnType<typeof fakeClock>) {
    let calls = 0;
    const probe = async () => {
      calls++;
      clock.advance(5000);
      return calls <= busyTimes ? probes({ docker: BUSY }) : probes();
    };
    return { probe, calls: () => calls };
  }

  it("probes again until the daemon answers, saying so, and reports how long it waited", async () => {
    const clock = fakeClock();
    const out = recordingOutput(false);
    const seq = sequence(2, clock);
    const r = await detectEngine(settings({ busyTimeout: 300 }), { probe: seq.probe, clock, out });
    expect(r.usable).toBe(true);
    expect(r.state).toBe("usable");
    expect(r.waitedMs).toBe(17_000);
    expect(seq.calls()).toBe(3);
    expect(out.text).toBe("kiln: waiting for the docker daemon to answer (busy 5 s)\nkiln: the docker daemon answered after 17 s\n");
  });

  it("gives up after engine.busyTimeout and says busy, with the time waited and the key that sets it", async () => {
    const clock = fakeClock();
    const out = recordingOutput(false);
    const seq = sequence(Infinity, clock);
    const r = await detectEngine(settings({ busyTimeout: 30 }), { probe: seq.probe, clock, out });
    expect(r.usable).toBe(false);
    expect(r.state).toBe("busy");
    expect(r.problem).toBe("the docker daemon is busy: it is running but has not answered for 35 s");
    expect(r.hint).toBe("wait and try again; engine.busyTimeout (KILN_BUSY_TIMEOUT, now 30 s) sets how long kiln waits");
    expect(seq.calls()).toBe(6); // 5, 11, 17, 23, 29, 35 s
    expect(out.text.split("\n").filter(Boolean)).toEqual([
      "kiln: waiting for the docker daemon to answer (busy 5 s)",
      "kiln: waiting for the docker daemon to answer (busy 17 s)",
      "kiln: waiting for the docker daemon to answer (busy 29 s)",
    ]);
  });

  it("does not wait for a daemon that is not running", async () => {
    const clock = fakeClock();
    const out = recordingOutput(false);
    let calls = 0;
    const down = { address: "unix:///var/run/docker.sock", answers: false, containerdStore: false, state: "down" as const, socket: "absent" as const };
    const r = await detectEngine(settings(), { probe: async () => (calls++, probes({ docker: down })), clock, out });
    expect(r.state).toBe("not-running");
    expect(calls).toBe(1);
    expect(out.text).toBe("");
    expect(r.waitedMs).toBeUndefined();
  });

  it("does not wait with engine.busyTimeout 0", async () => {
    const clock = fakeClock();
    const seq = sequence(Infinity, clock);
    const r = await detectEngine(settings({ busyTimeout: 0 }), { probe: seq.probe, clock, out: recordingOutput(false) });
    expect(r.state).toBe("busy");
    expect(seq.calls()).toBe(1);
  });
});

describe("probe parsers", () => {
  it("reads docker info JSON, containerd store included", () => {
    const info = JSON.stringify({ ServerVersion: "26.1.5+dfsg1", Driver: "overlayfs", DriverStatus: [["driver-type", "io.containerd.snapshotter.v1"]], ClientInfo: { Version: "28.2.2" } });
    expect(parseDockerInfo(info, true)).toEqual({ answers: true, clientVersion: "28.2.2", serverVersion: "26.1.5+dfsg1", storageDriver: "overlayfs", containerdStore: true });
    expect(parseDockerInfo(JSON.stringify({ ServerVersion: "", ClientInfo: { Version: "28.2.2" } }), false).answers).toBe(false);
    expect(parseDockerInfo(JSON.stringify({ ServerVersion: "20.10", Driver: "overlay2", DriverStatus: [["Backing Filesystem", "extfs"]] }), true).containerdStore).toBe(false);
    expect(parseDockerInfo("", false).answers).toBe(false);
  });

  it("reads buildctl worker platforms", () => {
    const out = JSON.stringify([{ ID: "w1", Platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm", variant: "v7" }] }]);
    expect(parseWorkerPlatforms(out)).toEqual(["linux/amd64", "linux/arm/v7"]);
    expect(parseWorkerPlatforms("not json")).toEqual([]);
    // buildctl 0.26 (the catalog's buildkit image) prints the JSON field names.
    const recent = '[{"id":"vjsg","platforms":[{"architecture":"amd64","os":"linux"},{"architecture":"amd64","os":"linux","variant":"v2"},{"architecture":"arm64","os":"linux"}]}]';
    expect(parseWorkerPlatforms(recent)).toEqual(["linux/amd64", "linux/amd64/v2", "linux/arm64"]);
  });

  it("reads binfmt entries and the F flag", () => {
    const text = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n";
    expect(parseBinfmtEntry(text)).toEqual({ enabled: true, flags: "PF", fixBinary: true });
    expect(parseBinfmtEntry("disabled\nflags: P\n")).toEqual({ enabled: false, flags: "P", fixBinary: false });
    expect(parseBinfmtEntry("")).toEqual({ enabled: false, flags: "", fixBinary: false });
    expect(foreignEmulator("x64")).toBe("qemu-aarch64");
    expect(foreignEmulator("arm64")).toBe("qemu-x86_64");
  });

  it("renders buildctl connection flags", () => {
    expect(buildctlConnectionArgs({ buildkitHost: "tcp://bk:1234", tls: { ca: "/ca", cert: "/c", key: "/k", serverName: "bk" } })).toEqual([
      "--addr",
      "tcp://bk:1234",
      "--tlsservername",
      "bk",
      "--tlscacert",
      "/ca",
      "--tlscert",
      "/c",
      "--tlskey",
      "/k",
    ]);
  });
});

describe("formatEngineReport", () => {
  it("shows driver, why, capabilities, emulation and registry", () => {
    const text = formatEngineReport({ ...decideEngine(settings(), probes()), durationMs: 12 });
    expect(text).toContain("engine:     usable (buildx)\n");
    expect(text).toContain("driver:     buildx: BUILDKIT_HOST is not set;");
    expect(text).toContain("oci export: yes\nmulti-arch: yes\n");
    expect(text).toContain("emulation:  qemu-aarch64: enabled, flags PF\n");
    expect(text).toContain("registry:   127.0.0.1:5000: answers\n");
    expect(text).not.toContain("waited:");
  });

  it("says how long kiln waited for a busy engine, and names the state of one that is not usable", () => {
    expect(formatEngineReport({ ...decideEngine(settings(), probes()), waitedMs: 17_000, durationMs: 17_400 })).toContain("waited:     17 s for a busy engine to answer\n");
    const busy = formatEngineReport({ ...decideEngine(settings(), probes({ docker: BUSY })), durationMs: 5000 });
    expect(busy).toMatch(/^engine: {5}NOT usable \(busy\): the docker daemon at unix:\/\/\/var\/run\/docker\.sock is busy/);
  });
});
