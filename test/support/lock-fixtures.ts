/** Local stand-ins for the outside world of locks: a git repository, an HTTP server, a catalog folder. */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { tempDir } from "./temp-dir.ts";

export { tempDir };

/** A git repository with one commit per call of `commit`, tags movable with `tag`. */
export class LocalRepo {
  constructor(readonly dir: string) {}

  static async create(dir: string): Promise<LocalRepo> {
    await fs.mkdir(dir, { recursive: true });
    const repo = new LocalRepo(dir);
    repo.git("init", "--quiet", "--initial-branch=main");
    return repo;
  }

  get url(): string {
    return `file://${this.dir}`;
  }

  git(...args: string[]): string {
    const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.org", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.org", GIT_AUTHOR_DATE: "2025-01-01T00:00:00Z", GIT_COMMITTER_DATE: "2025-01-01T00:00:00Z" };
    return execFileSync("git", ["-C", this.dir, ...args], { env, encoding: "utf8" }).trim();
  }

  /** Writes files, commits them, returns the commit id. */
  async commit(files: Record<string, string>, message = "change"): Promise<string> {
    for (const [name, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(this.dir, name)), { recursive: true });
      await fs.writeFile(path.join(this.dir, name), content);
    }
    this.git("add", "-A");
    this.git("commit", "--quiet", "-m", message);
    return this.git("rev-parse", "HEAD");
  }

  /** Points `tag` at HEAD (moving it if it exists); annotated when `message` is given. */
  tag(tag: string, message?: string): void {
    this.git("tag", "-f", ...(message ? ["-a", "-m", message] : []), tag);
  }
}

/** An HTTP server on 127.0.0.1 serving files from a map that tests may change. */
export class FileServer {
  files = new Map<string, Buffer>();
  /** Paths whose answer stops after half the bytes and then hangs. */
  stall = new Set<string>();
  /** Paths answered in small pieces with pauses (to overlap concurrent fetches). */
  slow = new Set<string>();
  requests: string[] = [];
  private server = http.createServer((req, res) => {
    const p = req.url ?? "/";
    this.requests.push(p);
    const body = this.files.get(p);
    if (!body) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-length": body.length, "content-type": "application/octet-stream" });
    if (this.stall.has(p)) res.write(body.subarray(0, body.length >> 1));
    else if (this.slow.has(p)) {
      const piece = Math.ceil(body.length / 10);
      let sent = 0;
      const timer = setInterval(() => {
        res.write(body.subarray(sent, sent + piece));
        sent += piece;
        if (sent >= body.length) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
    } else res.end(body);
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }

  url(p: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${p}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Writes `images/<name>/image.ts` holding `def` under `root`. */
export async function writeDefinition(root: string, name: string, def: Record<string, unknown>): Promise<string> {
  const dir = path.join(root, "images", name);
  await fs.mkdir(dir, { recursive: true });
  // Definitions are ES modules: node imports them as such only under a `"type": "module"` package.
  await fs.writeFile(path.join(root, "package.json"), '{ "type": "module" }\n');
  await fs.writeFile(path.join(dir, "image.ts"), `export default ${JSON.stringify({ name, category: "experimental", description: `test image ${name}`, ...def }, null, 2)};\n`);
  return dir;
}

/** A throw-away GnuPG key: its fingerprint, armoured public key, and a detached signer. */
export async function makeSigningKey(): Promise<{ fingerprint: string; publicKey: string; sign: (file: string, out: string) => void; cleanup: () => Promise<void> }> {
  const home = await tempDir("kiln-gpg-");
  await fs.chmod(home, 0o700);
  const gpg = (...args: string[]) => execFileSync("gpg", ["--homedir", home, "--batch", "--quiet", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  gpg("--passphrase", "", "--quick-gen-key", "Kiln Test <test@example.org>", "ed25519", "sign", "never");
  const fingerprint = gpg("--with-colons", "--list-keys").split("\n").find((l) => l.startsWith("fpr:"))!.split(":")[9]!;
  return {
    fingerprint,
    publicKey: gpg("--export", "--armor", fingerprint),
    sign: (file, out) => void gpg("--yes", "--detach-sign", "--output", out, file),
    cleanup: async () => {
      try {
        execFileSync("gpgconf", ["--homedir", home, "--kill", "all"], { stdio: "ignore" });
      } catch {
        /* no agent running */
      }
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}
