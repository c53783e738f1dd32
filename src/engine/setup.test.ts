import { describe, expect, it } from "vitest";
import { parseOsRelease } from "./pins.ts";
import { describeAction, mergeDaemonConfig, planSetup, type HostState } from "./setup.ts";

/** A host where everything is up: this project's machines after setup. */
function host(over: Partial<HostState> = {}): HostState {
  return {
    os: parseOsRelease("ID=debian\nVERSION_CODENAME=bookworm\n"),
    root: true,
    hasApt: true,
    needs: [],
    binfmt: { entry: "qemu-aarch64", mounted: true, enabled: true, flags: "PF", fixBinary: true },
    daemonConfig: { current: { features: { "containerd-snapshotter": true } } },
    docker: { local: true, address: "unix:///var/run/docker.sock", answers: true, containerdStore: true },
    registry: { status: 200 },
    ...over,
  };
}

describe("mergeDaemonConfig", () => {
  it("turns the containerd image store on and keeps every other key", () => {
    const current = { "log-driver": "json-file", features: { buildkit: true }, "insecure-registries": ["r:5000"] };
    expect(mergeDaemonConfig(current)).toEqual({
      config: { "log-driver": "json-file", features: { buildkit: true, "containerd-snapshotter": true }, "insecure-registries": ["r:5000"] },
      changed: true,
    });
  });

  it("writes a fresh file when there is none, and changes nothing when the key is already on", () => {
    expect(mergeDaemonConfig(undefined)).toEqual({ config: { features: { "containerd-snapshotter": true } }, changed: true });
    expect(mergeDaemonConfig({ features: { "containerd-snapshotter": true }, debug: true }).changed).toBe(false);
    expect(mergeDaemonConfig({ features: { "containerd-snapshotter": false } }).changed).toBe(true);
  });
});

describe("planSetup", () => {
  it("does nothing when everything is up", () => {
    expect(planSetup(host())).toEqual({ actions: [], blockers: [], refusal: undefined });
  });

  it("accepts a running daemon and registry it did not start, whatever their config file", () => {
    // The registry's config path is not looked at: only whether it answers.
    expect(planSetup(host({ daemonConfig: { current: { features: { "containerd-snapshotter": true }, debug: true } } })).actions).toEqual([]);
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
    expect(plan.actions.map((a) => a.kind)).toEqual(["daemon-config"]);
    expect(plan.blockers).toHaveLength(1);
    expect(plan.blockers[0]).toContain("does not restart a running daemon");
  });

  it("does not start a second dockerd when the running one refuses this user", () => {
    const plan = planSetup(host({ docker: { local: true, address: "unix:///var/run/docker.sock", answers: false, containerdStore: false, error: "permission denied while trying to connect" } }));
    expect(plan.actions).toEqual([]);
    expect(plan.blockers[0]).toContain("refuses this user");
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
