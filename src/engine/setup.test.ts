import { describe, expect, it } from "vitest";
import { fakeClock, recordingOutput } from "../../test/support/fake-clock.ts";
import { parseOsRelease, type Pins } from "./pins.ts";
import { BUILDER_GC, describeAction, inspectHostPatiently, mergeDaemonConfig, planSetup, type HostState } from "./setup.ts";

/** A host where everything is up: this project's machines after setup. */
function host(over: Partial<HostState> = {}): HostState {
  return {
    os: parseOsRelease("ID=debian\nVERSION_CODENAME=bookworm\n"),
    root: true,
    hasApt: true,
    needs: [],
    binfmt: { entry: "qemu-aarch64", mounted: true, enabled: true, flags: "PF", fixBinary: true },
    daemonConfig: { current: { features: { "containerd-snapshotter": true }, builder: { gc: BUILDER_GC } } },
    docker: { local: true, address: "unix:///var/run/docker.sock", answers: true, containerdStore: true },
    registry: { status: 200 },
    ...over,
  };
}

describe("mergeDaemonConfig", () => {
  it("turns the containerd image store and a bounded build cache on, and keeps every other key", () => {
    const current = { "log-driver": "json-file", features: { buildkit: true }, "insecure-registries": ["r:5000"], builder: { entitlements: { "network-host": true } } };
    expect(mergeDaemonConfig(current)).toEqual({
      config: {
        "log-driver": "json-file",
        features: { buildkit: true, "containerd-snapshotter": true },
        "insecure-registries": ["r:5000"],
        builder: { entitlements: { "network-host": true }, gc: { enabled: true, defaultKeepStorage: "20GB" } },
      },
      missing: ["features.containerd-snapshotter", "builder.gc"],
      changed: true,
    });
  });

  it("writes a fresh file when there is none, and changes nothing when both are there", () => {
    expect(mergeDaemonConfig(undefined)).toMatchObject({ config: { features: { "containerd-snapshotter": true }, builder: { gc: BUILDER_GC } }, changed: true });
    expect(mergeDaemonConfig({ features: { "containerd-snapshotter": true }, builder: { gc: BUILDER_GC }, debug: true }).changed).toBe(false);
    expect(mergeDaemonConfig({ features: { "containerd-snapshotter": false }, builder: { gc: BUILDER_GC } }).missing).toEqual(["features.containerd-snapshotter"]);
  });

  it("keeps a build-cache policy the site chose, even one that turns GC off", () => {
    const mine = { enabled: false };
    const merged = mergeDaemonConfig({ features: { "containerd-snapshotter": true }, builder: { gc: mine } });
    expect(merged.changed).toBe(false);
    expect(merged.config.builder).toEqual({ gc: mine });
  });

  it("says what the file lacks", () => {
    expect(describeAction({ kind: "daemon-config", missing: ["builder.gc"] })).toBe("/etc/docker/daemon.json does not turn on a bounded build cache (builder.gc)");
  });
});

describe("planSetup", () => {
  it("does nothing when everything is up", () => {
    expect(planSetup(host())).toEqual({ actions: [], blockers: [], refusal: undefined });
  });

  it("accepts a running daemon and registry it did not start, whatever their config file", () => {
    // The registry's config path is not looked at: only whether it answers.
    expect(planSetup(host({ daemonConfig: { current: { features: { "containerd-snapshotter": true }, builder: { gc: BUILDER_GC }, debug: true } } })).actions).toEqual([]);
  });

  it("plans every step on a fresh host, in order", () => {
    const fresh = host({
      needs: [{ name: "docker.io", want: "26.1.5+dfsg1-9+deb13u1+b1", suite: "trixie", anyVersion: false }],
      binfmt: { entry: "qemu-aarch64", mounted: false, enabled: false, flags: "", fixBinary: false },
      daemonConfig: {},
      docker: { local: true, address: "unix:///var/run/docker.sock", answers: false, containerdStore: false },
      registry: {},
    });
    expect(planSetup(fresh).actions.map((a) => a.kind)).toEqual(["packages", "binfmt-mount", "binfmt-enable", "daemon-config", "dockerd", "registry"]);
  });

  it("re-registers an emulator without the F flag", () => {
    const plan = planSetup(host({ binfmt: { entry: "qemu-aarch64", mounted: true, enabled: true, flags: "P", fixBinary: false } }));
    expect(plan.actions).toEqual([{ kind: "binfmt-enable", entry: "qemu-aarch64", reregister: true }]);
  });

  it("never restarts a running dockerd that lacks the containerd store: it says so", () => {
    const plan = planSetup(host({ daemonConfig: {}, docker: { local: true, address: "unix:///var/run/docker.sock", answers: true, containerdStore: false } }));
    expect(plan.actions[0]).toEqual({ kind: "daemon-config", missing: ["features.containerd-snapshotter", "builder.gc"] });
    expect(plan.actions.map((a) => a.kind)).toEqual(["daemon-config"]);
    expect(plan.blockers).toHaveLength(1);
    expect(plan.blockers[0]).toContain("does not restart a running daemon");
  });

  it("does not start a second dockerd when the running one refuses this user", () => {
    const plan = planSetup(host({ docker: { local: true, address: "unix:///var/run/docker.sock", answers: false, containerdStore: false, error: "permission denied while trying to connect" } }));
    expect(plan.actions).toEqual([]);
    expect(plan.blockers[0]).toContain("refuses this user");
  });

  it("never starts a second dockerd next to a busy one: it says it is busy", () => {
    const plan = planSetup(host({ docker: { local: true, address: "unix:///var/run/docker.sock", answers: false, containerdStore: false, state: "busy", error: "no answer for 300 s" } }));
    expect(plan.actions).toEqual([]);
    expect(plan.blockers).toEqual(["the docker daemon at unix:///var/run/docker.sock is running but busy (no answer for 300 s); setup does not start a second one: wait, then rerun setup"]);
  });

  it("starts dockerd only when nothing listens", () => {
    const plan = planSetup(host({ docker: { local: true, address: "unix:///var/run/docker.sock", answers: false, containerdStore: false, state: "down" } }));
    expect(plan.actions).toEqual([{ kind: "dockerd" }]);
  });

  it("does not start a local daemon for a remote DOCKER_HOST", () => {
    const plan = planSetup(host({ docker: { local: false, address: "tcp://far:2375", answers: false, containerdStore: false } }));
    expect(plan.actions).toEqual([]);
    expect(plan.blockers[0]).toContain("tcp://far:2375");
  });

  it("refuses a registry port that answers but is not an open registry", () => {
    const plan = planSetup(host({ registry: { status: 401 } }));
    expect(plan.actions).toEqual([]);
    expect(plan.blockers[0]).toContain("HTTP 401");
  });

  it("refuses to change a host when not root or not Debian/Ubuntu, listing what is missing", () => {
    const missing = host({ root: false, registry: {} });
    const plan = planSetup(missing);
    expect(plan.refusal).toBe("setup needs root (it installs packages and starts daemons)");
    expect(plan.actions.map(describeAction)).toEqual(["no registry answers on 127.0.0.1:5000"]);
    expect(planSetup(host({ os: parseOsRelease('ID=fedora\nPRETTY_NAME="Fedora Linux 40"\n') })).refusal).toBe("this host is Fedora Linux 40, not Debian or Ubuntu");
    expect(planSetup(host({ os: parseOsRelease("ID=ubuntu\nVERSION_CODENAME=noble\n") })).refusal).toBeUndefined();
  });

  it("describes package needs with pinned and installed versions", () => {
    const text = describeAction({
      kind: "packages",
      needs: [
        { name: "skopeo", want: "1.9.3+ds1-1+b10", suite: "bookworm", have: "1.18.0+ds1-1+b5", anyVersion: false },
        { name: "curl", want: "7.88.1-10+deb12u15", suite: "bookworm", anyVersion: true },
      ],
    });
    expect(text).toBe("packages not at their pinned versions: skopeo 1.9.3+ds1-1+b10 (have 1.18.0+ds1-1+b5), curl (not installed)");
  });
});

describe("inspectHostPatiently", () => {
  const pins = { packages: [] } as unknown as Pins;
  const busy = host({ docker: { local: true, address: "unix:///var/run/docker.sock", answers: false, containerdStore: false, state: "busy", error: "docker: no answer (timed out)" } });

  it("looks again while the daemon is busy, and plans nothing for it once it answers", async () => {
    const clock = fakeClock();
    const out = recordingOutput(false);
    const seen = [busy, busy, host()];
    const state = await inspectHostPatiently(pins, { busyTimeoutMs: 300_000, clock, out, inspect: async () => (clock.advance(5000), seen.shift()!) });
    expect(planSetup(state).actions).toEqual([]);
    expect(out.text).toBe("kiln: waiting for the docker daemon to answer (busy 5 s)\nkiln: the docker daemon answered after 17 s\n");
  });

  it("gives up after the bound and says how long the daemon has been silent", async () => {
    const clock = fakeClock();
    const state = await inspectHostPatiently(pins, { busyTimeoutMs: 10_000, clock, out: recordingOutput(false), inspect: async () => (clock.advance(5000), busy) });
    const plan = planSetup(state);
    expect(plan.actions).toEqual([]);
    expect(plan.blockers[0]).toBe("the docker daemon at unix:///var/run/docker.sock is running but busy (no answer for 11 s); setup does not start a second one: wait, then rerun setup");
  });
});
