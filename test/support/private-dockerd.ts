/**
 * A docker daemon of the test's own, to stop and restart without touching
 * the shared one: its own data root, exec root (hence its own containerd),
 * socket and pid file, the containerd image store on, its own bridge
 * interface and no iptables rules (builds use `RUN --network=none`).
 *
 * Trap: `--bridge=none` is not "no bridge for me": a dockerd started with it
 * deletes the host's docker0 interface (moby's removeDefaultBridgeInterface),
 * which the shared daemon's containers need. Hence a bridge of its own,
 * made here and removed afterwards.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { socketState } from "../../src/engine/daemon.ts";

export class PrivateDockerd {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly root: string,
    /** Its bridge interface (at most 15 characters), never docker0. */
    readonly bridge: string,
  ) {}

  /** `DOCKER_HOST` for this daemon. */
  get host(): string {
    return `unix://${this.socket}`;
  }

  get socket(): string {
    return path.join(this.root, "docker.sock");
  }

  get logFile(): string {
    return path.join(this.root, "dockerd.log");
  }

  static async start(root: string): Promise<PrivateDockerd> {
    await fsp.mkdir(root, { recursive: true });
    const n = process.pid % 250;
    const d = new PrivateDockerd(root, `kilnpd${n}`);
    await ip(["link", "add", "name", d.bridge, "type", "bridge"]);
    await ip(["addr", "add", `10.254.${n}.1/24`, "dev", d.bridge]);
    await ip(["link", "set", d.bridge, "up"]);
    await fsp.writeFile(path.join(root, "daemon.json"), JSON.stringify({ features: { "containerd-snapshotter": true } }));
    await d.up();
    return d;
  }

  /** Starts dockerd and waits until it answers /_ping (60 s at most). */
  async up(): Promise<void> {
    const log = fs.openSync(this.logFile, "a");
    const r = (p: string) => path.join(this.root, p);
    // prettier-ignore
    const args = [
      "--config-file", r("daemon.json"), "--data-root", r("data"), "--exec-root", r("exec"),
      "-H", this.host, "--pidfile", r("docker.pid"),
      `--bridge=${this.bridge}`, "--iptables=false", "--ip6tables=false", "--ip-masq=false",
    ];
    const child = spawn("/usr/sbin/dockerd", args, { stdio: ["ignore", log, log], detached: true });
    fs.closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`private dockerd exited with ${child.exitCode}; see ${this.logFile}`);
      if ((await socketState(this.host)) === "accepts" && (await ping(this.socket)) === 200) return;
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error(`private dockerd did not answer within 60 s; see ${this.logFile}`);
  }

  /** Stops it the way an init system would: SIGTERM, then waits for it (and its containerd) to exit. */
  async down(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const killed = await Promise.race([this.exited!.then(() => false), sleep(60_000).then(() => true)]);
    if (killed) {
      child.kill("SIGKILL");
      await this.exited;
    }
    this.child = undefined;
  }

  async restart(): Promise<void> {
    await this.down();
    await this.up();
  }

  /** Stops it and removes everything it kept (unmounting what it left mounted). */
  async remove(): Promise<void> {
    await this.down();
    const mounts = (await fsp.readFile("/proc/self/mountinfo", "utf8"))
      .split("\n")
      .map((l) => l.split(" ")[4])
      .filter((m): m is string => !!m && m.startsWith(this.root + "/"))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await new Promise((res) => spawn("umount", ["-l", m], { stdio: "ignore" }).once("close", res));
    await fsp.rm(this.root, { recursive: true, force: true });
    await ip(["link", "delete", this.bridge]).catch(() => undefined);
  }
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`ip ${args.join(" ")}: ${err.trim()}`))));
  });
}

/** /_ping over the daemon's socket. */
function ping(socket: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: "/_ping", timeout: 2000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
