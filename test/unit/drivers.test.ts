/** Golden renderings: the same plans through both drivers, compared with files under test/golden/. */
import { describe, expect, it } from "vitest";
import type { LoadedImage } from "../../src/definition/catalog.ts";
import { definitionSchema, type ImageDefinitionInput } from "../../src/definition/schema.ts";
import { renderBuildctl } from "../../src/engine/buildctl.ts";
import { renderBuildx } from "../../src/engine/buildx.ts";
import { formatArgv } from "../../src/cli/format.ts";
import { makePlan, type BuildRequest } from "../../src/plan/plan.ts";
import { settingsSchema, type SettingsInput } from "../../src/settings/schema.ts";
import type { Lock } from "../../src/lock/schema.ts";
import type { EngineTarget } from "../../src/plan/types.ts";

function image(def: ImageDefinitionInput): LoadedImage {
  return { name: def.name, dir: `/repo/images/${def.name}`, file: `/repo/images/${def.name}/image.ts`, def: definitionSchema.parse(def) };
}

const labels = { "org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567", "org.opencontainers.image.version": "v1.2.0" };

interface Case {
  name: string;
  image: LoadedImage;
  request: BuildRequest;
  settings?: SettingsInput;
  lock?: Lock;
  parents?: Record<string, string>;
}

const cases: Case[] = [
  {
    name: "simple",
    image: image({ name: "hello", category: "experimental", description: "hello" }),
    request: { ref: "hello" },
  },
  {
    name: "app-with-parents",
    image: image({
      name: "router",
      category: "infrastructure",
      description: "router",
      parents: { "base-builder": "base:builder", "base-runtime": "base:runtime" },
      secrets: ["apt.conf", "curlrc"],
      targets: { image: { stage: "runtime" } },
      buildArgs: { CADDY_FLAVOR: "plain" },
    }),
    request: { ref: "router", push: true, noCache: true, buildArgs: { EXTRA: "1" }, platforms: ["linux/arm64"], cacheFrom: ["type=registry,ref=127.0.0.1:5000/cache:router"] },
    settings: { registries: ["127.0.0.1:5000/home"], hosts: { "git.home.arpa": "10.0.0.2" }, cache: { to: ["type=inline"] }, secrets: { "gh-token": "/etc/kiln/token" } },
    parents: { "base-builder": `sha256:${"b".repeat(64)}`, "base-runtime": `sha256:${"c".repeat(64)}` },
  },
  {
    name: "debian-rootfs",
    image: image({ name: "debian", category: "base", description: "debian", inputs: { debian: { set: "minbase" } }, outputs: { names: ["kiln/debian"], tags: ["bookworm-{snapshotDate}", "latest"] } }),
    request: { ref: "debian", load: true },
    lock: { lockVersion: 1, image: "debian", debian: { suite: "bookworm", snapshot: "20261129T000000Z", request: { set: "minbase", packages: [], foreignArchitectures: [] }, packages: {} } },
  },
];

const engines: Record<string, EngineTarget> = {
  buildx: { driver: "buildx", tls: {} },
  buildctl: { driver: "buildctl", buildkitHost: "tcp://buildkitd.home.arpa:1234", tls: { ca: "/etc/kiln/ca.pem", cert: "/etc/kiln/cert.pem", key: "/etc/kiln/key.pem", serverName: "buildkitd" } },
};

describe("driver renderings", () => {
  for (const c of cases) {
    const plan = makePlan({
      image: c.image,
      request: c.request,
      settings: settingsSchema.parse(c.settings ?? {}),
      lock: c.lock,
      storeDir: "/var/lib/kiln/store",
      parentDigests: c.parents ?? {},
      labels,
      extraBuildArgs: {},
    });
    it(`${c.name}: plan`, async () => {
      await expect(JSON.stringify(plan, null, 2) + "\n").toMatchFileSnapshot(`../golden/${c.name}.plan.json`);
    });
    for (const [driver, engine] of Object.entries(engines)) {
      it(`${c.name}: ${driver}`, async () => {
        const argv = driver === "buildx" ? renderBuildx(plan, engine) : renderBuildctl(plan, engine);
        await expect(formatArgv(argv) + "\n").toMatchFileSnapshot(`../golden/${c.name}.${driver}.txt`);
      });
    }
  }

  it("never dates a child before its parents (an older BuildKit would re-stamp the parents' layers)", () => {
    const lock: Lock = { lockVersion: 1, image: "app", debian: { suite: "bookworm", snapshot: "20261201T000000Z", request: { set: "packages", packages: [], foreignArchitectures: [] }, packages: {} } };
    const plan = (parentsEpoch?: number) =>
      makePlan({ image: image({ name: "app", category: "experimental", description: "app" }), request: { ref: "app" }, settings: settingsSchema.parse({}), lock, storeDir: "/s", parentDigests: {}, parentsEpoch, labels: {}, extraBuildArgs: {} });
    const own = Date.UTC(2026, 11, 1) / 1000;
    expect(plan().sourceDateEpoch).toBe(own);
    expect(plan(own - 86400).sourceDateEpoch).toBe(own);
    expect(plan(own + 3 * 86400).sourceDateEpoch).toBe(own + 3 * 86400);
    expect(plan(own + 3 * 86400).buildArgs.SOURCE_DATE_EPOCH).toBe(String(own + 3 * 86400));
  });

  it("never puts secret values in the argv", () => {
    const plan = makePlan({
      image: image({ name: "x", category: "base", description: "x", secrets: ["netrc", "apt.conf"] }),
      request: { ref: "x" },
      settings: settingsSchema.parse({ credentials: { "git.home.arpa": { username: "me", password: "hunter2-secret" } }, apt: { proxy: "http://user:pw@proxy:3142" } }),
      storeDir: "/s",
      parentDigests: {},
      labels: {},
      extraBuildArgs: {},
    });
    const text = [...renderBuildx(plan, engines.buildx!), ...renderBuildctl(plan, engines.buildctl!), JSON.stringify(plan)].join(" ");
    expect(text).not.toContain("hunter2-secret");
    expect(text).not.toContain("user:pw");
    expect(text).toContain("id=netrc,src=<secrets>/netrc");
  });
});
