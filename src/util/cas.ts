/**
 * A content-addressed file cache: `<root>/sha256/<hex>` (or sha512).
 * Writers stream into a private temporary file in the same folder, check the
 * hash, then rename: a partial or wrong download never becomes an entry, and
 * concurrent writers of the same content cannot corrupt each other. The
 * temporary file of a writer that was killed is removed by the next writer.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import { removeOrphans } from "./temp.ts";

export type HashAlgorithm = "sha256" | "sha512";

export class HashMismatchError extends Error {
  constructor(
    readonly what: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${what}: expected ${expected}, got ${actual}`);
  }
}

/** Folders already swept of orphaned temporary files by this process: once is enough. */
const swept = new Set<string>();

export class ContentStore {
  constructor(readonly root: string) {}

  pathOf(algorithm: HashAlgorithm, hex: string): string {
    return path.join(this.root, algorithm, hex);
  }

  async has(algorithm: HashAlgorithm, hex: string): Promise<boolean> {
    return fs.access(this.pathOf(algorithm, hex)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Returns the entry's path if present and intact; a corrupt entry (bytes that
   * no longer hash to their name) is removed and reported through `onCorrupt`.
   */
  async getVerified(algorithm: HashAlgorithm, hex: string, onCorrupt?: (actual: string) => void): Promise<string | undefined> {
    const file = this.pathOf(algorithm, hex);
    if (!(await this.has(algorithm, hex))) return undefined;
    const actual = await hashFile(file, algorithm);
    if (actual === hex) return file;
    onCorrupt?.(actual);
    await fs.rm(file, { force: true });
    return undefined;
  }

  /** Streams `source` in; refuses (and leaves nothing behind) when the hash differs from `expectedHex`. */
  async put(source: Readable, algorithm: HashAlgorithm, expectedHex: string | undefined, what: string): Promise<{ path: string; hex: string; size: number }> {
    const dir = path.join(this.root, algorithm);
    await fs.mkdir(dir, { recursive: true });
    if (!swept.has(dir)) {
      swept.add(dir);
      await removeOrphans(dir);
    }
    const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
    const hash = createHash(algorithm);
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, tap, createWriteStream(tmp, { mode: 0o644 }));
      const hex = hash.digest("hex");
      if (expectedHex && hex !== expectedHex) throw new HashMismatchError(what, expectedHex, hex);
      const dest = this.pathOf(algorithm, hex);
      await fs.rename(tmp, dest);
      return { path: dest, hex, size };
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }
}

/** What a verifying stream found at its end (or when it ran past the expected size). */
export interface Mismatch {
  actualHex: string;
  /** Bytes read: all of them, or as far as past the expected size. */
  actualSize: number;
  /** True when the stream stopped early because it ran past `expectedSize`. */
  overSize: boolean;
}

/**
 * A pass-through stream that hashes what flows through it and fails, at the
 * end, when the bytes are not the expected ones (and as soon as they run past
 * `expectedSize`, when one is known): readers learn a blob was wrong before
 * they finish, so nothing built from its bytes is believed.
 */
export function verifyingStream(opts: { algorithm?: HashAlgorithm; expectedHex: string; expectedSize?: number; mismatch: (found: Mismatch) => Error }): Transform {
  const hash = createHash(opts.algorithm ?? "sha256");
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (opts.expectedSize !== undefined && size > opts.expectedSize) {
        done(opts.mismatch({ actualHex: "", actualSize: size, overSize: true }));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actualHex = hash.digest("hex");
      const sizeOk = opts.expectedSize === undefined || size === opts.expectedSize;
      done(actualHex === opts.expectedHex && sizeOk ? null : opts.mismatch({ actualHex, actualSize: size, overSize: false }));
    },
  });
}

export async function hashFile(file: string, algorithm: HashAlgorithm = "sha256"): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

export function hashBytes(data: Buffer | string, algorithm: HashAlgorithm = "sha256"): string {
  return createHash(algorithm).update(data).digest("hex");
}
