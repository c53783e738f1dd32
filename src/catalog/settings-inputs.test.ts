import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/temp-dir.ts";
import { settingsSchema } from "../settings/schema.ts";
import { renderNetrc } from "../settings/secrets.ts";
import { secretDigestKey, settingsInputs } from "./settings-inputs.ts";

const settings = settingsSchema.parse({ credentials: { "deb.example": { username: "me", password: "hunter2" } } });
const def = { secrets: ["netrc"] } as unknown as Parameters<typeof settingsInputs>[1];

describe("digests of secrets in the record of a build's inputs", () => {
  it("are keyed (HMAC-SHA256), never the plain sha256 a guess can be checked against", async () => {
    const state = await tempDir("kiln-state-");
    const digest = settingsInputs(settings, def, {}, state)["secret netrc"]!;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).not.toBe(createHash("sha256").update(renderNetrc(settings)).digest("hex"));
    // the same machine, the same digest: staleness still works
    expect(settingsInputs(settings, def, {}, state)["secret netrc"]).toBe(digest);
    // another machine's key, another digest
    expect(settingsInputs(settings, def, {}, await tempDir("kiln-state-"))["secret netrc"]).not.toBe(digest);
  });

  it("the key is made once, 32 bytes, 0600 in a 0700 folder; a readable one is made private; a damaged one is made again", async () => {
    const state = path.join(await tempDir("kiln-state-"), "kiln-state");
    const key = secretDigestKey(state);
    const file = path.join(state, "secrets.key");
    expect([key.length, fs.statSync(file).mode & 0o777, fs.statSync(state).mode & 0o777]).toEqual([32, 0o600, 0o700]);
    expect(secretDigestKey(state).equals(key)).toBe(true);
    fs.chmodSync(file, 0o644);
    expect(secretDigestKey(state).equals(key)).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    fs.writeFileSync(file, "short");
    const again = secretDigestKey(state);
    expect([again.length, again.equals(key), fs.readdirSync(state)]).toEqual([32, false, ["secrets.key"]]);
  });

  it("no secret mounted, no key made", async () => {
    const state = await tempDir("kiln-state-");
    expect(settingsInputs(settingsSchema.parse({}), { secrets: [] } as unknown as Parameters<typeof settingsInputs>[1], {}, state)).toEqual({});
    expect(fs.readdirSync(state)).toEqual([]);
  });
});
