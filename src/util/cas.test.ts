import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { verifyingStream, type Mismatch } from "./cas.ts";

const hex = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Streams `chunks` through a verifying stream; resolves with what came out, or rejects with its error. */
async function through(chunks: Buffer[], expectedHex: string, expectedSize?: number): Promise<{ out: Buffer; found?: Mismatch }> {
  let found: Mismatch | undefined;
  const out: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, done) {
      out.push(c);
      done();
    },
  });
  const check = verifyingStream({ expectedHex, expectedSize, mismatch: (m) => ((found = m), new Error("mismatch")) });
  await pipeline(Readable.from(chunks), check, sink).catch((e: Error) => {
    if (e.message !== "mismatch") throw e;
  });
  return { out: Buffer.concat(out), found };
}

describe("verifyingStream", () => {
  const data = Buffer.from("the bytes of a blob, in two chunks");
  const chunks = [data.subarray(0, 10), data.subarray(10)];

  it("passes the expected bytes through unchanged", async () => {
    const r = await through(chunks, hex(data), data.length);
    expect(r.found).toBeUndefined();
    expect(r.out.equals(data)).toBe(true);
  });

  it("fails at the end when one byte differs", async () => {
    const flipped = Buffer.from(data);
    flipped[5]! ^= 0x01;
    const r = await through([flipped], hex(data), data.length);
    expect(r.found).toEqual({ actualHex: hex(flipped), actualSize: data.length, overSize: false });
  });

  it("fails when the size differs from the descriptor's, even without a size-changing hash check", async () => {
    const r = await through(chunks, hex(data), data.length + 1);
    expect(r.found).toMatchObject({ actualSize: data.length, overSize: false });
  });

  it("stops as soon as the bytes run past the expected size", async () => {
    const r = await through([data, data, data], hex(data), data.length);
    expect(r.found).toEqual({ actualHex: "", actualSize: 2 * data.length, overSize: true });
    expect(r.out.equals(data)).toBe(true);
  });

  it("checks the hash alone when no size is known", async () => {
    expect((await through(chunks, hex(data))).found).toBeUndefined();
    expect((await through(chunks, hex(Buffer.from("other")))).found?.actualHex).toBe(hex(data));
  });
});
