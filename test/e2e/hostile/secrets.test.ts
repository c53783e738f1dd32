/**
 * Secrets against a local user who reads /proc and a run that is killed
 * outright. While kiln fetches through a proxy with credentials, and while a
 * build with them runs on the real engine, no process on the machine has the
 * password in its command line; a kiln killed with SIGKILL in the middle of a
 * build leaves its secrets folder, and the next kiln command, whatever it is,
 * removes it.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../support/temp-dir.ts";
import { kiln, REPO, writeCatalog } from "../helpers.ts";

const PASSWORD = `S3cr3t-${process.pid}`;
const KILN = path.join(REPO, "bin", "kiln");

/** An HTTP server that records each request and answers none until told to. */
class HoldingServer {
  requests: http.IncomingMessage[] = [];
  private held: http.ServerResponse[] = [];
  private waiters: (() => void)[] = [];
  private server = http.createServer((req, res) => {
    this.requests.push(req);
    this.held.push(res);
    for (const w of this.waiters.splice(0)) w();
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves once a request has come in. */
  requested(): Promise<void> {
    return this.requests.length ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  release(status: number): void {
    for (const res of this.held.splice(0)) res.writeHead(status).end();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Every process's command line on this machine, as `ps` would show it. */
async function commandLines(): Promise<{ pid: string; cmdline: string }[]> {
  const pids = (await fs.readdir("/proc")).filter((p) => /^\d+$/.test(p));
  const read = await Promise.all(pids.map(async (pid) => ({ pid, cmdline: (await fs.readFile(`/proc/${pid}/cmdline`).catch(() => Buffer.alloc(0))).toString().replaceAll("\0", " ") })));
  return read.filter((p) => p.cmdline);
}

/** Starts kiln in its own process group (so that what it started can be ended with it). */
function startKiln(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(KILN, args, { env: { ...process.env, ...env }, cwd: REPO, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, exited, stderr: () => stderr };
}

let root: string;
let tmp: string;
let env: NodeJS.ProcessEnv;
let server: HoldingServer;
const groups: number[] = [];

beforeAll(async () => {
  server = await new HoldingServer().start();
  root = await tempDir("kiln-hostile-secrets-");
  tmp = path.join(root, "tmp");
  await fs.mkdir(tmp);
  const config = path.join(root, "config.json");
  await fs.writeFile(config, JSON.stringify({ apt: { proxy: `http://kiln:${PASSWORD}@127.0.0.1:${server.port}`, mirrors: ["http://127.0.0.1:9/debian"], securityMirrors: ["http://127.0.0.1:9/debian"] } }));
  await writeCatalog(root, {
    "package.json": '{ "type": "module" }\n',
    "images/app/image.ts": `import { defineImage } from "{{kiln}}";
export default defineImage({ name: "app", category: "experimental", description: "mounts the site's apt.conf", dockerfile: "Dockerfile", platforms: ["linux/amd64"], secrets: ["apt.conf"], inputs: { debian: { suite: "bookworm", packages: ["hello"] } } });
`,
    // The engine fetches this from the holding server: the build waits there, inside kiln's secrets folder's lifetime.
    "images/slow/image.ts": `import { defineImage } from "{{kiln}}";
export default defineImage({ name: "slow", category: "experimental", description: "a build that waits", dockerfile: "Dockerfile", platforms: ["linux/amd64"], secrets: ["apt.conf"] });
`,
    "images/slow/Dockerfile": `FROM scratch\nADD http://127.0.0.1:${server.port}/slow-${process.pid} /slow\n`,
  });
  env = { KILN_CATALOG: root, KILN_STORE: path.join(root, "store"), KILN_CACHE_DIR: path.join(root, "cache"), KILN_CONFIG: config, TMPDIR: tmp, NO_PROXY: "", no_proxy: "" };
});
afterEach(() => {
  // What a killed kiln started (the engine client) goes with its group.
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  server.release(503);
  server.requests = [];
});
afterAll(async () => {
  await server?.stop();
});

describe("secrets against /proc and SIGKILL", { timeout: 240_000 }, () => {
  it("kiln's own Debian fetch through a proxy with credentials: the password is in no process's command line, and the proxy gets it", async () => {
    const run = startKiln(["lock", "app"], env);
    groups.push(run.child.pid!);
    await Promise.race([server.requested(), run.exited.then(() => Promise.reject(new Error(`kiln ended before fetching: ${run.stderr()}`)))]);
    const leaking = (await commandLines()).filter((p) => p.cmdline.includes(PASSWORD));
    expect(leaking).toEqual([]);
    expect(server.requests[0]!.headers["proxy-authorization"]).toBe(`Basic ${Buffer.from(`kiln:${PASSWORD}`).toString("base64")}`);
    server.release(404); // not one curl retries
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toMatch(/^kiln: cannot fetch bookworm InRelease: http:\/\/127\.0\.0\.1:9\/debian\/dists\/bookworm\/InRelease: curl: \(\d+\) [^\n]*; check the apt mirror settings and the network$/m);
  });

  it("a kiln killed with SIGKILL mid-build leaves its secrets folder; the next kiln command removes it", async () => {
    const run = startKiln(["build", "slow", "--progress", "plain"], env);
    groups.push(run.child.pid!);
    await Promise.race([server.requested(), run.exited.then(() => Promise.reject(new Error(`kiln ended before the build fetched: ${run.stderr()}`)))]);
    // The build is running: the engine waits for the holding server, the secrets are on disk, the password in no argv.
    const during = (await fs.readdir(tmp)).filter((n) => n.startsWith("kiln-secrets-"));
    expect(during).toEqual([expect.stringMatching(new RegExp(`^kiln-secrets-${run.child.pid}-`))]);
    expect(await fs.readFile(path.join(tmp, during[0]!, "apt.conf"), "utf8")).toContain(PASSWORD);
    expect((await commandLines()).filter((p) => p.cmdline.includes(PASSWORD))).toEqual([]);
    run.child.kill("SIGKILL");
    expect(await run.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect((await fs.readdir(tmp)).filter((n) => n.startsWith("kiln-secrets-"))).toEqual(during);
    const next = await kiln(["ls"], env);
    expect(next.code).toBe(0);
    expect((await fs.readdir(tmp)).filter((n) => n.startsWith("kiln-secrets-"))).toEqual([]);
  });
});
