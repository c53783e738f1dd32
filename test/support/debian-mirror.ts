/**
 * A Debian mirror of one's own on 127.0.0.1, signed with a throw-away archive
 * key: suites with their InRelease (clear-signed, Date of one's choosing) and
 * Packages indices, paths that answer forever, and the keyring with its
 * sha256 for `apt.archiveKeyring`, the way a site with its own archive pins it.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { tempDir } from "./temp-dir.ts";

export interface ArchiveKey {
  /** Binary keyring file holding the public key. */
  keyring: string;
  sha256: string;
  fingerprint: string;
  /** The last 16 hex digits of the fingerprint, as gpgv names a key. */
  longId: string;
  /** Clear-signs `text` (with the time faked to `at`, e.g. 20200101T120000, when given). */
  clearsign(text: string, at?: string): Buffer;
  cleanup(): Promise<void>;
}

/** A new ed25519 signing key; `expiredSince` makes one created then that expired a day later. */
export async function makeArchiveKey(uid: string, opts: { expiredSince?: string } = {}): Promise<ArchiveKey> {
  const home = await tempDir("kiln-archive-key-");
  await fs.chmod(home, 0o700);
  const gpg = (args: string[], input?: string) => execFileSync("gpg", ["--homedir", home, "--batch", "--quiet", ...args], { input, stdio: ["pipe", "pipe", "pipe"] });
  const faked = (at?: string) => (at ? ["--faked-system-time", `${at}!`] : []);
  gpg([...faked(opts.expiredSince), "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", opts.expiredSince ? "1d" : "never"]);
  const fingerprint = gpg(["--with-colons", "--list-keys"]).toString().split("\n").find((l) => l.startsWith("fpr:"))!.split(":")[9]!;
  const keyring = path.join(home, "archive-keyring.gpg");
  await fs.writeFile(keyring, gpg(["--export", fingerprint]));
  const sha256 = createHash("sha256").update(await fs.readFile(keyring)).digest("hex");
  return {
    keyring,
    sha256,
    fingerprint,
    longId: fingerprint.slice(-16),
    clearsign: (text, at = opts.expiredSince?.replace(/T\d+$/, "T120000")) => gpg([...faked(at), "--clearsign", "--local-user", fingerprint], text),
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

/** RFC 2822 date as Release files write it. */
export function releaseDate(d: Date): string {
  return d.toUTCString().replace("GMT", "UTC");
}

/** A Release text for `suite` listing `files` (path relative to dists/<suite>/ -> bytes) with sha256 and size. */
export function releaseText(suite: string, date: Date, files: Record<string, Buffer>): string {
  const lines = Object.entries(files).map(([rel, data]) => ` ${createHash("sha256").update(data).digest("hex")} ${String(data.length).padStart(8)} ${rel}`);
  return [`Origin: Kiln Test`, `Label: Kiln Test`, `Suite: ${suite}`, `Codename: ${suite}`, `Date: ${releaseDate(date)}`, `Architectures: amd64`, `Components: main`, `SHA256:`, ...lines].join("\n") + "\n";
}

/** A Packages index stanza of a package without dependencies (its .deb need not exist: locking does not fetch it). */
export function packageStanza(name: string, version: string, arch = "amd64"): string {
  const file = `pool/main/${name[0]}/${name}/${name}_${version}_${arch}.deb`;
  return [`Package: ${name}`, `Version: ${version}`, `Architecture: ${arch}`, `Maintainer: Kiln Test <test@example.org>`, `Priority: optional`, `Section: misc`, `Filename: ${file}`, `Size: 1000`, `SHA256: ${createHash("sha256").update(file).digest("hex")}`, `Description: ${name}`].join("\n") + "\n";
}

export function xz(data: string): Buffer {
  return execFileSync("xz", ["-c", "-9e", "--check=crc64"], { input: data });
}

/** An HTTP server on 127.0.0.1: files from a map tests may change, and paths that answer forever. */
export class MirrorServer {
  files = new Map<string, Buffer>();
  /** Paths answered with zeros without end (until the client goes). */
  endless = new Set<string>();
  private server = http.createServer((req, res) => {
    const p = req.url ?? "/";
    if (this.endless.has(p)) {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      res.on("close", () => res.destroy());
      pump();
      return;
    }
    const body = this.files.get(p);
    if (!body) res.writeHead(404).end("not found");
    else res.writeHead(200, { "content-length": body.length }).end(body);
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }

  url(p = ""): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${p}`;
  }

  /**
   * Publishes `suite` under /debian: its Packages.xz for amd64 holding `packages`
   * and an InRelease dated `date`, signed by `key`. Returns the InRelease bytes.
   */
  publish(suite: string, date: Date, key: ArchiveKey, packages = ""): Buffer {
    const index = xz(packages);
    this.files.set(`/debian/dists/${suite}/main/binary-amd64/Packages.xz`, index);
    // apt finds an index only when the Release lists its uncompressed form too (kiln fetches the .xz).
    const signed = key.clearsign(releaseText(suite, date, { "main/binary-amd64/Packages": Buffer.from(packages), "main/binary-amd64/Packages.xz": index }));
    this.files.set(`/debian/dists/${suite}/InRelease`, signed);
    return signed;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
