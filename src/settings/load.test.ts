import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KilnError } from "../errors.ts";
import { describeSettingsKeys, loadSettings, mergeLayers } from "./load.ts";
import { ENVIRONMENT_KEYS, settingsSchema } from "./schema.ts";

let dir: string;
let home: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-settings-test-"));
  home = path.join(dir, "home");
  await fs.mkdir(home);
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Loads with an isolated environment: no real $HOME or $KILN_CONFIG leaks in. */
function load(opts: { configPath?: string; env?: NodeJS.ProcessEnv; sets?: string[] } = {}) {
  return loadSettings({ cwd: dir, ...opts, env: { HOME: home, ...opts.env } });
}

async function write(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await fs.mkdir(path.dirname(p), { recursive: true });
  await fs.writeFile(p, text);
  return p;
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    const line = (e as KilnError).toLine();
    expect(line).not.toContain("\n");
    return line;
  }
  throw new Error("expected an error");
}

describe("layers", () => {
  it("gives the schema defaults with no file, env or --set", async () => {
    expect(await load()).toEqual(settingsSchema.parse({}));
  });

  it("reads the default config.yaml under ~/.config/kiln, resolving relative paths against it", async () => {
    await write("home/.config/kiln/config.yaml", "apt:\n  proxy: http://proxy:3128\nca: certs/ca.pem\nsecrets:\n  token: ~/token.txt\n");
    const s = await load();
    expect(s.apt.proxy).toBe("http://proxy:3128");
    expect(s.apt.mirrors).toEqual(["http://deb.debian.org/debian"]);
    expect(s.ca).toBe(path.join(home, ".config/kiln/certs/ca.pem"));
    expect(s.secrets).toEqual({ token: path.join(home, "token.txt") });
  });

  it("honours XDG_CONFIG_HOME and reads JSON", async () => {
    await write("xdg/kiln/config.json", JSON.stringify({ offline: true }));
    expect((await load({ env: { XDG_CONFIG_HOME: path.join(dir, "xdg") } })).offline).toBe(true);
  });

  it("refuses two default config files", async () => {
    await write("home/.config/kiln/config.json", "{}");
    await write("home/.config/kiln/config.yml", "{}");
    expect(await errorOf(load())).toMatch(/several site config files .*config\.json, config\.yml/);
  });

  it("uses $KILN_CONFIG, and an explicit path over it; a missing explicit file is an error", async () => {
    const a = await write("a.yaml", "engine: { builder: a }\n");
    const b = await write("b.yml", "engine: { builder: b }\n");
    expect((await load({ env: { KILN_CONFIG: a } })).engine.builder).toBe("a");
    expect((await load({ env: { KILN_CONFIG: a }, configPath: b })).engine.builder).toBe("b");
    expect(await errorOf(load({ env: { KILN_CONFIG: path.join(dir, "nope.yaml") } }))).toMatch(/config file .*nope\.yaml \(from KILN_CONFIG\) does not exist/);
    expect(await errorOf(load({ configPath: path.join(dir, "nope.json") }))).toMatch(/\(from --config\) does not exist/);
  });

  it("treats an empty file and null values as not set", async () => {
    const f = await write("c.yaml", "apt:\n  proxy: ~\n  checkValidUntil: null\n");
    const s = await load({ configPath: f });
    expect(s.apt.proxy).toBeUndefined();
    expect(s.apt.checkValidUntil).toBe(true);
    expect(await load({ configPath: await write("empty.yaml", "") })).toEqual(settingsSchema.parse({}));
  });

  it("orders file < environment < --set, merging objects and replacing arrays", async () => {
    const f = await write(
      "c.yaml",
      "engine:\n  driver: buildx\n  builder: file\napt:\n  mirrors: [http://a/debian, http://b/debian]\n  proxy: http://file:1\nhosts:\n  a.lan: 10.0.0.1\nregistries: [file.example/me]\n",
    );
    const s = await load({
      configPath: f,
      env: { KILN_BUILDER: "env", BUILDKIT_HOST: "tcp://bk:1234", KILN_REGISTRIES: "env.example/a, env.example/b", KILN_OFFLINE: "yes" },
      sets: ["engine.builder=cli", "apt.mirrors=http://c/debian", "hosts[b.lan]=10.0.0.2"],
    });
    expect(s.engine).toEqual({ driver: "buildx", builder: "cli", buildkitHost: "tcp://bk:1234", buildctl: "buildctl", tls: {}, nodes: [], busyTimeout: 300 });
    expect(s.apt.mirrors).toEqual(["http://c/debian"]);
    expect(s.apt.proxy).toBe("http://file:1");
    expect(s.hosts).toEqual({ "a.lan": "10.0.0.1", "b.lan": "10.0.0.2" });
    expect(s.registries).toEqual(["env.example/a", "env.example/b"]);
    expect(s.offline).toBe(true);
  });

  it("ignores empty environment variables", async () => {
    expect((await load({ env: { BUILDKIT_HOST: "", KILN_OFFLINE: "" } })).engine.buildkitHost).toBeUndefined();
  });

  it("deep-merges objects and replaces arrays", () => {
    expect(mergeLayers({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 });
    expect(mergeLayers({ a: { b: 1 } }, { a: { b: undefined } })).toEqual({ a: {} });
  });
});

describe("--set", () => {
  it("types booleans, numbers-as-strings, comma lists and JSON arrays", async () => {
    const s = await load({ sets: ["offline=on", "apt.checkValidUntil=false", "cache.from=type=registry,ref=r/c:a", 'registries=["a/b","c/d"]'] });
    expect(s.offline).toBe(true);
    expect(s.apt.checkValidUntil).toBe(false);
    // A comma list: "type=registry" and "ref=r/c:a" become two entries; JSON keeps commas inside one entry.
    expect(s.cache.from).toEqual(["type=registry", "ref=r/c:a"]);
    expect(s.registries).toEqual(["a/b", "c/d"]);
    const t = await load({ sets: ['cache.from=["type=registry,ref=r/c:a"]'] });
    expect(t.cache.from).toEqual(["type=registry,ref=r/c:a"]);
  });

  it("sets map entries whose keys contain dots, bracketed or not", async () => {
    const s = await load({
      sets: [
        "hosts[my.host]=10.0.0.1",
        "hosts.other.lan=10.0.0.2",
        "credentials.reg.example.com.username=me",
        "credentials[reg.example.com].password=pw",
        'credentials["127.0.0.1:5000"]={"username":"u","password":"p"}',
        "secrets.gh.token=tok.txt",
      ],
    });
    expect(s.hosts).toEqual({ "my.host": "10.0.0.1", "other.lan": "10.0.0.2" });
    expect(s.credentials).toEqual({ "reg.example.com": { username: "me", password: "pw" }, "127.0.0.1:5000": { username: "u", password: "p" } });
    expect(s.secrets).toEqual({ "gh.token": path.join(dir, "tok.txt") });
  });

  it("overrides a single credential field from the file", async () => {
    const f = await write("c.yaml", "credentials:\n  reg.example.com: { username: u, password: old }\n");
    const s = await load({ configPath: f, sets: ["credentials.reg.example.com.password=new"] });
    expect(s.credentials["reg.example.com"]).toEqual({ username: "u", password: "new" });
  });

  it("unsets an optional key with an empty value", async () => {
    const f = await write("c.yaml", "apt: { proxy: http://p:1 }\n");
    expect((await load({ configPath: f, sets: ["apt.proxy="] })).apt.proxy).toBeUndefined();
  });

  it("names an unknown key and lists the close ones", async () => {
    expect(await errorOf(load({ sets: ["engine.drivr=x"] }))).toBe(
      "--set engine.drivr: unknown settings key engine.drivr; valid keys: engine.driver, engine.builder, engine.buildkitHost, engine.buildctl, engine.tls.ca, engine.tls.cert, engine.tls.key, engine.tls.serverName, ...",
    );
    expect(await errorOf(load({ sets: ["aptt.proxy=x"] }))).toMatch(/^--set aptt\.proxy: unknown settings key aptt; valid keys: apt\.mirrors, /);
    expect(await errorOf(load({ sets: ["credentials.reg.example.com.usernme=x"] }))).toBe(
      "--set credentials.reg.example.com.usernme: unknown settings key credentials[reg.example.com].usernme; valid keys: credentials[reg.example.com].username, credentials[reg.example.com].password",
    );
    expect(await errorOf(load({ sets: ["store.sub=x"] }))).toMatch(/unknown settings key store\.sub; store is a string and has no sub-keys$/);
  });

  it("rejects values of the wrong type, naming the key and what is allowed", async () => {
    expect(await errorOf(load({ sets: ["offline=maybe"] }))).toBe("--set offline: offline expects true or false");
    expect(await errorOf(load({ sets: ["engine.driver=docker"] }))).toBe("--set engine.driver: engine.driver expects one of auto, buildx, buildctl");
    expect(await errorOf(load({ sets: ["apt.mirrors=ftp"] }))).toBe("--set apt.mirrors: apt.mirrors[0] expects a URL like http://deb.debian.org/debian");
    expect(await errorOf(load({ sets: ["hosts={nope"] }))).toMatch(/^--set hosts: hosts expects a map of name -> string as a JSON object$/);
    expect(await errorOf(load({ sets: ["credentials[x].password=pw"] }))).toBe("--set credentials[x].password: credentials.x.username is required (a string)");
    expect(await errorOf(load({ sets: ["noequals"] }))).toMatch(/^--set noequals: expected key\.path=value/);
    expect(await errorOf(load({ sets: ["hosts[a=1"] }))).toMatch(/unclosed "\["/);
  });
});

describe("errors from the file and the environment", () => {
  it("names the file and the key", async () => {
    const f = await write("c.yaml", "engine:\n  driver: docker\n");
    expect(await errorOf(load({ configPath: f }))).toBe(`config file ${f}: engine.driver expects one of auto, buildx, buildctl`);
    const g = await write("g.yaml", "apt:\n  checkValidUntil: sometimes\n");
    expect(await errorOf(load({ configPath: g }))).toBe(`config file ${g}: apt.checkValidUntil expects true or false`);
    const h = await write("h.json", JSON.stringify({ credentials: { "r.example": { username: "u" } } }));
    expect(await errorOf(load({ configPath: h }))).toBe(`config file ${h}: credentials[r.example].password is required (a string)`);
  });

  it("names unknown keys in the file with suggestions", async () => {
    const f = await write("c.yaml", "apt:\n  proxi: http://p\n");
    expect(await errorOf(load({ configPath: f }))).toMatch(new RegExp(`^config file ${f}: unknown settings key apt\\.proxi; valid keys: apt\\.proxy, `));
  });

  it("blames the layer that set the bad value, not the file", async () => {
    const f = await write("c.yaml", "apt: { proxy: http://p:1 }\n");
    expect(await errorOf(load({ configPath: f, env: { KILN_DRIVER: "podman" } }))).toBe(
      "environment variable KILN_DRIVER: engine.driver expects one of auto, buildx, buildctl",
    );
    expect(await errorOf(load({ env: { KILN_OFFLINE: "perhaps" } }))).toBe("environment variable KILN_OFFLINE: offline expects true or false");
  });

  it("reports YAML syntax errors with the line", async () => {
    const f = await write("c.yaml", "apt:\n  proxy: [unclosed\n");
    expect(await errorOf(load({ configPath: f }))).toMatch(new RegExp(`^config file ${f}:\\d+:\\d+: not valid YAML: `));
    const g = await write("g.yaml", "- a\n- b\n");
    expect(await errorOf(load({ configPath: g }))).toMatch(/expected a mapping of settings keys at the top level/);
  });
});

describe("signing", () => {
  it("resolves key files against the config file's folder and keeps KMS URIs as written", async () => {
    const f = await write("site/config.yaml", "signing:\n  key: keys/cosign.key\n  passwordFile: ~/pw\n  publicKey: awskms:///alias/kiln\n");
    const s = await load({ configPath: f });
    expect(s.signing).toEqual({ key: path.join(dir, "site/keys/cosign.key"), passwordFile: path.join(home, "pw"), publicKey: "awskms:///alias/kiln" });
    const set = await load({ sets: ["signing.key=hashivault://kiln", "signing.publicKey=k.pub"] });
    expect(set.signing).toEqual({ key: "hashivault://kiln", publicKey: path.join(dir, "k.pub") });
    expect((await load({ sets: ["signing.key=pkcs11:token=kiln;object=sign"] })).signing.key).toBe("pkcs11:token=kiln;object=sign");
  });

  it("is empty by default, and refuses a URI that is no KMS cosign knows, an empty key and unknown keys", async () => {
    expect((await load()).signing).toEqual({});
    const f = await write("bad.yaml", "signing:\n  key: https://keys.lan/cosign.key\n");
    expect(await errorOf(load({ configPath: f }))).toBe(
      `config file ${f}: signing.key expects a key file or a KMS URI cosign knows (awskms://, gcpkms://, azurekms://, hashivault://, k8s://, pkcs11:)`,
    );
    const e = await write("empty.yaml", "signing:\n  publicKey: ''\n");
    expect(await errorOf(load({ configPath: e }))).toMatch(/^config file .*empty\.yaml: signing\.publicKey /);
    expect(await errorOf(load({ sets: ["signing.password=s3cret"] }))).toMatch(/^--set signing\.password: unknown settings key signing\.password; valid keys: .*signing\.passwordFile/);
  });
});

describe("describeSettingsKeys", () => {
  it("lists every key with a description, type, default and env var", () => {
    const keys = describeSettingsKeys();
    const byKey = new Map(keys.map((k) => [k.key, k]));
    expect(keys.every((k) => k.description.length > 0)).toBe(true);
    expect(byKey.get("engine.driver")).toMatchObject({ type: "one of auto, buildx, buildctl", default: '"auto"', env: "KILN_DRIVER" });
    expect(byKey.get("credentials.<name>.username")).toMatchObject({ type: "a string" });
    expect(byKey.get("apt.mirrors")).toMatchObject({ type: "a list of URLs", default: '["http://deb.debian.org/debian"]' });
    expect(byKey.get("ca")?.type).toBe("a file path or inline PEM text");
    for (const key of Object.values(ENVIRONMENT_KEYS)) expect(byKey.has(key)).toBe(true);
  });

  it("is documented key by key in docs/settings.md", async () => {
    const doc = await fs.readFile(new URL("../../docs/settings.md", import.meta.url), "utf8");
    for (const k of describeSettingsKeys()) {
      expect(doc, k.key).toContain(`\`${k.key}\``);
      if (k.env) expect(doc, k.env).toContain(`\`${k.env}\``);
      if (k.default) expect(doc, `default of ${k.key}`).toContain(`\`${k.default}\``);
    }
  });
});
