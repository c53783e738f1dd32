/**
 * The `runtime.clients` schema: defaults filled in, and every mistake named
 * by its field with what is allowed (through the loader's own messages).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { describeIssue, loadImage } from "../../src/definition/catalog.ts";
import { definitionSchema } from "../../src/definition/schema.ts";
import { KilnError } from "../../src/errors.ts";
import { tempDir } from "../support/temp-dir.ts";

const base = { name: "svc", category: "infrastructure", description: "a service" };

/** The first error for a definition whose runtime is `runtime`, or the parsed scenarios. */
function parse(runtime: unknown) {
  const r = definitionSchema.safeParse({ ...base, runtime });
  return r.success ? { clients: r.data.runtime.clients } : { error: r.error.issues.map(describeIssue).join(" | ") };
}

const step = { name: "get", command: ["true"] };

describe("runtime.clients", () => {
  it("fills the defaults: tools client, internal network, fixtures before the service, exit 0, 120 s", () => {
    const r = parse({ clients: [{ name: "s", fixtures: { auth: { ready: { port: 53 } } }, steps: [step] }] });
    expect(r.clients).toEqual([
      {
        name: "s",
        client: "tools:image",
        env: {},
        files: {},
        egress: false,
        fixtures: { auth: { env: {}, files: {}, start: "before-service", ready: { port: 53, timeoutSeconds: 60 } } },
        steps: [{ name: "get", command: ["true"], serviceLog: false, env: {}, restart: false, mount: [], volumes: [], exitCode: 0, outputContains: [], outputExcludes: [], timeoutSeconds: 120 }],
      },
    ]);
    expect(parse({}).clients).toEqual([]);
  });

  it("an image that needs its scenarios' fixtures to serve is not standalone", () => {
    expect(definitionSchema.parse({ ...base }).runtime.standalone).toBe(true);
    expect(definitionSchema.parse({ ...base, runtime: { standalone: false, clients: [{ name: "s", steps: [step] }] } }).runtime.standalone).toBe(false);
  });

  it.each([
    [{ clients: [{ name: "s", steps: [] }] }, /^runtime\.clients\[0\]\.steps: Too small: expected array to have >=1 items$/],
    [{ clients: [{ name: "s", stepz: [step] }] }, /runtime\.clients\[0\]: unknown key "stepz"; allowed: name, client, env, files, fixtures, egress, steps/],
    [{ clients: [{ name: "s", steps: [{ name: "x" }] }] }, /^runtime\.clients\[0\]\.steps\[0\]\.command: give either command or serviceLog: true$/],
    [{ clients: [{ name: "s", steps: [{ ...step, in: "auht" }], fixtures: { auth: {} } }] }, /^runtime\.clients\[0\]\.steps\[0\]\.in: unknown fixture "auht"; known: service, auth$/],
    [{ clients: [{ name: "s", steps: [{ ...step, in: "service", mount: ["store"] }] }] }, /steps\[0\]\.in: a step run inside a container takes no client, mount or volumes/],
    [{ clients: [{ name: "s", steps: [step, step] }] }, /^runtime\.clients\[0\]\.steps\[1\]\.name: another step is already named "get"$/],
    [{ clients: [{ name: "s", steps: [step] }, { name: "s", steps: [step] }] }, /^runtime\.clients\[1\]\.name: another scenario is already named "s"$/],
    [{ clients: [{ name: "s", steps: [{ ...step, volumes: ["/data"] }] }] }, /^runtime\.clients\[0\]\.steps\[0\]\.volumes: "\/data" is not one of runtime\.volumes \(none\)$/],
    [{ clients: [{ name: "s", steps: [{ ...step, mount: ["stor"] }] }] }, /mount\[0\]: invalid value; allowed: "store", "test"/],
    [{ clients: [{ name: "s", steps: [step], fixtures: { service: {} } }] }, /^runtime\.clients\[0\]\.fixtures\.service: invalid key: "service" is the service's own alias$/],
    [{ clients: [{ name: "s", steps: [step], fixtures: { Auth: {} } }] }, /fixtures\.Auth: invalid key: a host name: lowercase letters, digits and dashes/],
    [{ clients: [{ name: "s", steps: [step], fixtures: { auth: { ready: { port: 53, healthy: true } } } }] }, /fixtures\.auth\.ready: give exactly one of port, command, healthy/],
    [{ clients: [{ name: "s", steps: [step], fixtures: { auth: { colour: 1 } } }] }, /fixtures\.auth: unknown key "colour"; allowed: image, entrypoint, command, env, files, user, ready, start/],
    [{ clients: [{ name: "s", steps: [step], fixtures: { auth: { image: "Tools" } } }] }, /fixtures\.auth\.image: a catalog image as `name` or `name:target`/],
    [{ clients: [{ name: "s", steps: [step], files: { "/run/secrets/key": "../secret" } }] }, /^runtime\.clients\[0\]\.files\["\/run\/secrets\/key"\]: no `\.\.` segments: files come from the definition's folder$/],
    [{ clients: [{ name: "s", steps: [step], files: { "/certs": "/etc/ssl" } }] }, /files\["\/certs"\]: a path relative to the definition's folder/],
    [{ clients: [{ name: "s", steps: [step], files: { "certs": "test/certs" } }] }, /files\.certs: invalid key: an absolute path inside the container/],
    [{ clients: [{ name: "s", steps: [step], env: { "BAD-NAME": "1" } }] }, /env\.BAD-NAME: invalid key: an environment variable name/],
    [{ standalone: false }, /^runtime\.standalone: false needs a client scenario \(runtime\.clients\) that gives the service what it needs$/],
  ])("refuses %j naming the field", (runtime, message) => {
    expect(parse(runtime).error).toMatch(message);
  });

  it("names the definition file and the field when a definition is loaded", async () => {
    const root = await tempDir("kiln-clients-schema-");
    const dir = path.join(root, "images", "svc");
    await fs.mkdir(dir, { recursive: true });
    const schema = path.resolve("src/definition/schema.ts");
    const runtime = { clients: [{ name: "dns", fixtures: { auth: {} }, steps: [{ name: "resolve", command: ["kdig"], in: "resolver" }] }] };
    await fs.writeFile(path.join(dir, "image.ts"), `import { defineImage } from ${JSON.stringify(schema)};\nexport default defineImage(${JSON.stringify({ ...base, runtime })});\n`);
    const e = await loadImage("svc", root).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).toLine()).toMatch(/images\/svc\/image\.ts: runtime\.clients\[0\]\.steps\[0\]\.in: unknown fixture "resolver"; known: service, auth; see the definition reference/);
  });
});
