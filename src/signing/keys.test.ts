import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KilnError } from "../errors.ts";
import { settingsSchema, type Settings } from "../settings/schema.ts";
import { signingKeyFrom, verificationKeyFrom } from "./keys.ts";

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-keys-test-"));
  await fs.writeFile(path.join(dir, "cosign.key"), "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
  await fs.writeFile(path.join(dir, "cosign.pub"), "-----BEGIN PUBLIC KEY-----\n");
  await fs.writeFile(path.join(dir, "pw"), "s3cret\n");
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const settings = (signing: Settings["signing"]) => settingsSchema.parse({ signing });
const file = (name: string) => path.join(dir, name);

async function errorOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(KilnError);
  return (e as KilnError).toLine();
}

describe("signingKeyFrom", () => {
  it("reads the password from its file for a key file, and passes a KMS URI on without one", async () => {
    const key = await signingKeyFrom(settings({ key: file("cosign.key"), passwordFile: file("pw") }));
    expect(key).toEqual({ key: file("cosign.key"), password: Buffer.from("s3cret") });
    expect((await signingKeyFrom(settings({ key: file("cosign.key") }))).password).toEqual(Buffer.alloc(0));
    expect(await signingKeyFrom(settings({ key: "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k" }))).toEqual({ key: "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k" });
  });

  it("says what is missing or unreadable before anything runs", async () => {
    expect(await errorOf(signingKeyFrom(settings({})))).toMatch(/^no signing key: signing.key is not set in the site settings; create one with `cosign generate-key-pair`/);
    expect(await errorOf(signingKeyFrom(settings({ key: file("nope.key") })))).toBe(`cannot read signing.key ${file("nope.key")}: ENOENT; fix signing.key in the site settings (docs/supply-chain.md#signatures)`);
    expect(await errorOf(signingKeyFrom(settings({ key: file("cosign.key"), passwordFile: file("nope") })))).toMatch(/^cannot read signing.passwordFile .*nope: ENOENT/);
    expect(await errorOf(signingKeyFrom(settings({ key: "awskms:///alias/kiln", passwordFile: file("pw") })))).toMatch(/signing.passwordFile is set, but signing.key is a KMS URI/);
  });
});

describe("verificationKeyFrom", () => {
  it("takes signing.publicKey, else a KMS signing.key, never a private key file", async () => {
    expect(await verificationKeyFrom(settings({ key: file("cosign.key"), publicKey: file("cosign.pub") }))).toBe(file("cosign.pub"));
    expect(await verificationKeyFrom(settings({ key: "hashivault://kiln" }))).toBe("hashivault://kiln");
    expect(await errorOf(verificationKeyFrom(settings({ key: file("cosign.key") })))).toMatch(/^no key to verify with: signing.publicKey is not set/);
    expect(await errorOf(verificationKeyFrom(settings({ publicKey: file("gone.pub") })))).toMatch(/^cannot read signing.publicKey .*gone.pub: ENOENT/);
  });
});
