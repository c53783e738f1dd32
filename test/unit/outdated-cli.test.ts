/** `kiln outdated` when it cannot compare: one line naming the cause, exit 1, no report. No network: a local mirror. */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stableStringify } from "../../src/lock/schema.ts";
import { kiln } from "../e2e/helpers.ts";
import { FileServer, tempDir, writeDefinition } from "../support/lock-fixtures.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/debian");

let root: string;
let env: NodeJS.ProcessEnv;
let server: FileServer;

beforeAll(async () => {
  root = await tempDir("kiln-outdated-cli-");
  env = { KILN_CATALOG: root, KILN_STORE: path.join(root, "store"), KILN_CACHE_DIR: path.join(root, "cache") };
  const debian = { packages: ["hello"] };
  const dir = await writeDefinition(root, "app", { platforms: ["linux/amd64"], inputs: { debian } });
  await writeDefinition(root, "unlocked", { platforms: ["linux/amd64"], inputs: { debian } });
  const hello = { name: "hello", version: "2.10-3", architecture: "amd64", archive: "debian", path: "pool/main/h/hello/hello_2.10-3_amd64.deb", size: 1, sha256: "0".repeat(64) };
  const lock = { lockVersion: 1, image: "app", debian: { suite: "bookworm", snapshot: "20261201T021334Z", request: { set: "packages", packages: ["hello"], foreignArchitectures: [] }, packages: { amd64: [hello] } } };
  await fs.writeFile(path.join(dir, "kiln.lock.json"), stableStringify(lock));
  // A mirror whose InRelease files were changed after signing.
  server = await new FileServer().start();
  const signed = await fs.readFile(path.join(FIXTURES, "bookworm-security.InRelease"), "utf8");
  const forged = Buffer.from(signed.replace("Label: Debian-Security", "Label: Debian-Insecure"));
  for (const suite of ["bookworm", "bookworm-updates", "bookworm-security"]) server.files.set(`/debian/dists/${suite}/InRelease`, forged);
});
afterAll(async () => {
  await server.stop();
  await fs.rm(root, { recursive: true, force: true });
});

// The archive's own keyring, trusted the way a site pins its own (the same file the pinned package holds).
const HOST_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
const keyring = async () => ["--set", `apt.archiveKeyring.file=${HOST_KEYRING}`, "--set", `apt.archiveKeyring.sha256=${createHash("sha256").update(await fs.readFile(HOST_KEYRING)).digest("hex")}`];
const mirrors = (base: string) => ["--set", `apt.mirrors=${base}/debian`, "--set", `apt.securityMirrors=${base}/debian`];

// Each case starts the CLI (and curl, gpgv): seconds apiece, more on a busy host.
describe("kiln outdated cannot compare", { timeout: 60_000 }, () => {
  it("refuses --offline", async () => {
    expect(await kiln(["outdated", "app", "--offline"], env)).toEqual({ code: 1, stdout: "", stderr: "kiln: offline: kiln outdated compares the locks against the current signed indices of the Debian mirror; run without --offline\n" });
  });

  it("a mirror that does not answer", async () => {
    const r = await kiln(["outdated", "app", ...mirrors("http://127.0.0.1:9")], env);
    expect([r.code, r.stdout]).toEqual([1, ""]);
    expect(r.stderr).toMatch(/^kiln: cannot fetch bookworm(-updates|-security)? InRelease: http:\/\/127\.0\.0\.1:9\/debian\/dists\/\S+\/InRelease: curl: \(7\) [^\n]*; check the apt mirror settings and the network\n$/);
  });

  it("an InRelease whose signature does not verify", async () => {
    const r = await kiln(["outdated", "app", ...mirrors(server.url("")), ...(await keyring())], env);
    expect([r.code, r.stdout]).toEqual([1, ""]);
    expect(r.stderr).toMatch(/^kiln: http:\/\/127\.0\.0\.1:\d+\/debian\/dists\/bookworm(-updates|-security)?\/InRelease: signature refused: bad signature by key [0-9A-F]{16} \([^\n]*\): the file is not what was signed; kiln trusts only good signatures by keys of apt\.archiveKeyring \/usr\/share\/keyrings\/debian-archive-keyring\.gpg; check the mirror setting\n$/);
  });

  it("an image whose Debian packages are not locked", async () => {
    expect(await kiln(["outdated", "--all"], env)).toEqual({ code: 1, stdout: "", stderr: "kiln: unlocked declares Debian packages but its lock pins none; run `kiln lock unlocked`\n" });
  });

  it("an unknown --fail-on", async () => {
    const r = await kiln(["outdated", "app", "--fail-on", "sometimes"], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/argument 'sometimes' is invalid\. Allowed choices are security, any\./);
  });
});
