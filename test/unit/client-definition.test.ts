/**
 * Client scenarios checked without an engine: `kiln lint` reports files
 * missing from the definition's folder and client or fixture images that are
 * not catalog images; `kiln test` refuses to start on those, and on an image
 * missing from the store, with one line naming the file and the field.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveClientImages } from "../../src/checks/client-images.ts";
import { lint } from "../../src/checks/lint.ts";
import { loadImage } from "../../src/definition/catalog.ts";
import { KilnError } from "../../src/errors.ts";
import { OciStore } from "../../src/oci/store.ts";
import { tempDir } from "../support/temp-dir.ts";
import { writeCatalog } from "./catalog/fixture.ts";

const DOCKERFILE = "FROM scratch\nUSER 2000\nHEALTHCHECK CMD [\"/x\"]\n";

const step = { name: "get", command: ["true"] };

function catalog(def: Record<string, unknown>, files: Record<string, string> = {}): Promise<string> {
  return writeCatalog({
    svc: { def, files: { Dockerfile: DOCKERFILE, ...files } },
    base: { def: { defaultTarget: "runtime", targets: { runtime: { runtime: { healthcheck: false } }, builder: { runtime: { healthcheck: false } } } }, files: { Dockerfile: "FROM scratch AS runtime\nUSER 2000\nFROM scratch AS builder\nUSER 2000\n" } },
  });
}

async function findings(def: Record<string, unknown>, files: Record<string, string> = {}): Promise<string[]> {
  const root = await catalog(def, files);
  const r = await lint({ root, names: ["svc"] });
  return r.findings.map((f) => `${f.rule}: ${f.message}`);
}

describe("kiln lint: client scenarios", () => {
  it("passes scenarios whose files exist and whose images are in the catalog", async () => {
    const runtime = {
      clients: [
        {
          name: "ok",
          client: "base:runtime",
          files: { "/run/secrets/htpasswd": "test/htpasswd", "/certs": "test/certs/" },
          fixtures: { auth: { image: "base", files: { "/config": "test/auth.conf" } } },
          steps: [{ ...step, mount: ["test"] }, { ...step, name: "build", client: "base:builder" }],
        },
      ],
    };
    expect(await findings({ runtime }, { "test/htpasswd": "u:x\n", "test/certs/cert.pem": "x\n", "test/auth.conf": "x\n" })).toEqual([]);
  });

  it("reports missing files, a missing test/ folder, unknown images and targets, and the default client when it is not in the catalog", async () => {
    const runtime = {
      clients: [
        {
          name: "broken",
          files: { "/run/secrets/htpasswd": "test/htpasswd" },
          fixtures: { auth: { image: "bsae:runtime", files: { "/config": "test/auth.conf" } }, web: { image: "base:web" } },
          steps: [{ ...step, mount: ["test"] }, { ...step, name: "inside", in: "auth" }],
        },
      ],
    };
    expect(await findings({ targets: { image: { runtime } } })).toEqual([
      expect.stringMatching(/^definition: targets\.image\.runtime\.clients\[0\]\.files\["\/run\/secrets\/htpasswd"\]: test\/htpasswd does not exist in \/.*\/images\/svc$/),
      expect.stringMatching(/^definition: targets\.image\.runtime\.clients\[0\]\.fixtures\.auth\.files\["\/config"\]: test\/auth\.conf does not exist in /),
      expect.stringMatching(/^definition: targets\.image\.runtime\.clients\[0\]\.steps\[0\]\.mount: "test" mounts \/.*\/images\/svc\/test, which does not exist$/),
      'definition: targets.image.runtime.clients[0].fixtures.auth.image: "bsae:runtime" is not in the catalog (did you mean base?)',
      'definition: targets.image.runtime.clients[0].fixtures.web.image: image base has no target "web" (its targets: runtime, builder)',
      'definition: targets.image.runtime.clients[0].client: "tools:image" (the default client image) is not in the catalog',
    ]);
  });
});

describe("kiln test: before anything starts", () => {
  async function refusal(def: Record<string, unknown>, files: Record<string, string> = {}): Promise<string> {
    const root = await catalog(def, files);
    const store = await OciStore.open(path.join(await tempDir("kiln-client-store-"), "store"));
    const image = await loadImage("svc", root);
    const e = await resolveClientImages(image, "image", image.def.runtime, store, root).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(KilnError);
    return (e as KilnError).toLine();
  }

  it("refuses a missing file, an unknown image, and an image that is not in the store, naming the file and the field", async () => {
    const missing = { runtime: { clients: [{ name: "s", client: "base:runtime", files: { "/certs": "test/certs/" }, steps: [step] }] } };
    expect(await refusal(missing)).toMatch(/images\/svc\/image\.ts: runtime\.clients\[0\]\.files\["\/certs"\]: test\/certs\/ does not exist in \/.*\/images\/svc$/);
    const unknown = { runtime: { clients: [{ name: "s", steps: [step] }] } };
    expect(await refusal(unknown)).toMatch(/image\.ts: runtime\.clients\[0\]\.client: "tools:image" \(the default client image\) is not in the catalog; `kiln ls` lists the catalog$/);
    const unbuilt = { runtime: { clients: [{ name: "s", fixtures: { auth: { image: "base" } }, steps: [{ ...step, in: "auth" }] }] } };
    expect(await refusal(unbuilt)).toMatch(/image\.ts: runtime\.clients\[0\]\.fixtures\.auth\.image: base:runtime is not in the local store \(.*\); build it: kiln build base:runtime$/);
  });

  it("needs nothing when the target declares no scenario", async () => {
    const root = await catalog({});
    const image = await loadImage("svc", root);
    const store = await OciStore.open(path.join(await tempDir("kiln-client-store-"), "store"));
    expect((await resolveClientImages(image, "image", image.def.runtime, store, root)).size).toBe(0);
  });
});
