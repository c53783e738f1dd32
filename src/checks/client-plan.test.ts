import { describe, expect, it } from "vitest";
import { definitionSchema, type RuntimeExpectations } from "../definition/schema.ts";
import { clientImagesOf, mountArg, nativePlatform, planScenario, type ScenarioPlanInput } from "./client-plan.ts";

const LOCKDOWN = ["--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges"];
const LABEL = ["--label", "dev.kiln.test=1"];

function runtimeOf(runtime: unknown): RuntimeExpectations {
  return definitionSchema.parse({ name: "dns", category: "infrastructure", description: "d", runtime }).runtime;
}

/** A resolver proof: an authoritative fixture it forwards to, a secret file, a restart, the store and test/ mounted. */
const runtime = runtimeOf({
  user: "2000",
  volumes: ["/data", "/cache"],
  env: { DNS_MODE: "forward" },
  clients: [
    {
      name: "dnssec",
      env: { DNS_UPSTREAMS: "auth" },
      files: { "/run/secrets/key": "test/key", "/certs": "test/certs/" },
      fixtures: {
        auth: { command: ["knotd", "-c", "/config/knot.conf"], files: { "/config": "test/auth" }, ready: { port: 53 } },
        web: { image: "router", entrypoint: ["caddy", "run"], env: { A: "1" }, user: "3000", start: "after-service" },
      },
      steps: [
        { name: "signed", command: ["kdig", "@service", "ok.test"], outputContains: ["ad;"] },
        { name: "push", command: ["skopeo", "copy", "oci:/kiln/store:base:runtime", "docker://service:5000/x"], mount: ["store", "test"], env: { X: "y" }, client: "base:runtime" },
        { name: "still there", command: ["ls", "/data"], restart: true, volumes: ["/data"], outputExcludes: ["lost+found"], timeoutSeconds: 5 },
        { name: "zone loaded", in: "auth", command: ["knotc", "status"], exitCode: 0 },
        { name: "in service", in: "service", command: ["true"] },
      ],
    },
  ],
});

const input: ScenarioPlanInput = {
  scenario: runtime.clients[0]!,
  runtime,
  ref: "dns:image",
  definitionDir: "/catalog/images/dns",
  storeDir: "/store",
  platform: "linux/arm64",
  nativePlatform: "linux/amd64",
  serviceTag: "docker.io/kiln-test/dns:image-1",
  tagOf: (ref) => `tag-of-${ref}`,
  id: "kt-1",
};

describe("planScenario", () => {
  const plan = planScenario(input);

  it("makes an internal network and one named volume per declared volume, labelled, with how to remove them", () => {
    expect(plan.network).toEqual({ key: "kt-1", create: ["network", "create", ...LABEL, "--internal", "kt-1"], remove: ["network", "rm", "kt-1"] });
    expect(plan.volumes).toEqual([
      { key: "kt-1-vol0", create: ["volume", "create", ...LABEL, "kt-1-vol0"], remove: ["volume", "rm", "--force", "kt-1-vol0"] },
      { key: "kt-1-vol1", create: ["volume", "create", ...LABEL, "kt-1-vol1"], remove: ["volume", "rm", "--force", "kt-1-vol1"] },
    ]);
    const egress = planScenario({ ...input, scenario: { ...input.scenario, egress: true } });
    expect(egress.network.create).toEqual(["network", "create", ...LABEL, "kt-1"]);
  });

  it("runs the service hardened on the platform under test, on the named volumes, with its env and read-only files", () => {
    expect(plan.service.key).toBe("kt-1-service");
    expect(plan.service.create).toEqual([
      "run", "--detach", "--name", "kt-1-service", "--network", "kt-1", "--network-alias", "service",
      ...LOCKDOWN, "--user", "2000", "--tmpfs", "/tmp", "--platform", "linux/arm64", ...LABEL,
      "--volume", "kt-1-vol0:/data", "--volume", "kt-1-vol1:/cache",
      "--env", "DNS_MODE=forward", "--env", "DNS_UPSTREAMS=auth",
      "--mount", "type=bind,source=/catalog/images/dns/test/key,target=/run/secrets/key,readonly",
      "--mount", "type=bind,source=/catalog/images/dns/test/certs,target=/certs,readonly",
      "docker.io/kiln-test/dns:image-1",
    ]);
    expect(plan.service.remove).toEqual(["rm", "--force", "--volumes", "kt-1-service"]);
  });

  it("runs fixtures natively under their alias, in the client image unless they name one, with entrypoint and command as docker takes them", () => {
    expect(plan.fixtures.map((f) => [f.alias, f.start, f.ready])).toEqual([
      ["auth", "before-service", { port: 53, timeoutSeconds: 60 }],
      ["web", "after-service", undefined],
    ]);
    expect(plan.fixtures[0]!.create).toEqual([
      "run", "--detach", "--name", "kt-1-auth", "--network", "kt-1", "--network-alias", "auth",
      ...LOCKDOWN, "--tmpfs", "/tmp", "--platform", "linux/amd64", ...LABEL,
      "--mount", "type=bind,source=/catalog/images/dns/test/auth,target=/config,readonly",
      "tag-of-tools:image", "knotd", "-c", "/config/knot.conf",
    ]);
    expect(plan.fixtures[1]!.create).toEqual([
      "run", "--detach", "--name", "kt-1-web", "--network", "kt-1", "--network-alias", "web",
      ...LOCKDOWN, "--user", "3000", "--tmpfs", "/tmp", "--platform", "linux/amd64", ...LABEL,
      "--env", "A=1",
      "--entrypoint", "caddy", "tag-of-router", "run",
    ]);
  });

  it("runs client steps natively in a fresh locked-down container with the command as its whole command line", () => {
    const [signed, push, still] = plan.steps;
    const env = ["--env", "KILN_PLATFORM=linux/arm64", "--env", "KILN_IMAGE=dns:image"];
    expect(signed).toEqual({
      name: "signed",
      container: "kt-1-step0",
      argv: ["run", "--rm", "--name", "kt-1-step0", "--network", "kt-1", ...LOCKDOWN, "--tmpfs", "/tmp", "--platform", "linux/amd64", ...LABEL, ...env, "--entrypoint", "kdig", "tag-of-tools:image", "@service", "ok.test"],
      restart: false,
      exitCode: 0,
      outputContains: ["ad;"],
      outputExcludes: [],
      timeoutMs: 120_000,
    });
    expect(push!.argv.slice(push!.argv.indexOf("--env"))).toEqual([
      ...env, "--env", "X=y",
      "--mount", "type=bind,source=/store,target=/kiln/store,readonly",
      "--mount", "type=bind,source=/catalog/images/dns/test,target=/kiln/test,readonly",
      "--entrypoint", "skopeo", "tag-of-base:runtime", "copy", "oci:/kiln/store:base:runtime", "docker://service:5000/x",
    ]);
    expect(still).toMatchObject({ restart: true, outputExcludes: ["lost+found"], timeoutMs: 5000 });
    expect(still!.argv).toContain("type=volume,source=kt-1-vol0,target=/data,readonly");
  });

  it("runs steps inside a fixture or the service with docker exec", () => {
    const env = ["--env", "KILN_PLATFORM=linux/arm64", "--env", "KILN_IMAGE=dns:image"];
    expect(plan.steps[3]).toMatchObject({ argv: ["exec", ...env, "kt-1-auth", "knotc", "status"] });
    expect(plan.steps[3]!.container).toBeUndefined();
    expect(plan.steps[4]!.argv).toEqual(["exec", ...env, "kt-1-service", "true"]);
  });

  it("judges the service's log with docker logs for a serviceLog step, after a restart when it asks for one", () => {
    const logged = runtimeOf({ clients: [{ name: "x", steps: [{ name: "clean start", serviceLog: true, restart: true, outputExcludes: ["recovery"] }] }] });
    const [step] = planScenario({ ...input, scenario: logged.clients[0]!, runtime: logged }).steps;
    expect(step).toMatchObject({ argv: ["logs", "kt-1-service"], restart: true, exitCode: 0, outputExcludes: ["recovery"] });
    expect(step!.container).toBeUndefined();
  });

  it("refuses a step with both a command and serviceLog, or neither", () => {
    for (const step of [{ name: "s", serviceLog: true, command: ["true"] }, { name: "s" }]) {
      expect(() => runtimeOf({ clients: [{ name: "x", steps: [step] }] })).toThrow(/give either command or serviceLog: true/);
    }
  });
});

describe("client images", () => {
  it("lists each image a scenario runs with the field naming it; the default client only where it is used", () => {
    expect(clientImagesOf(runtime.clients[0]!)).toEqual([
      { ref: "tools:image", field: ["client"] },
      { ref: "router", field: ["fixtures", "web", "image"] },
      { ref: "base:runtime", field: ["steps", 1, "client"] },
    ]);
    const inside = runtimeOf({ clients: [{ name: "x", client: "nope", fixtures: { a: { image: "router" } }, steps: [{ name: "s", in: "a", command: ["true"] }] }] });
    expect(clientImagesOf(inside.clients[0]!)).toEqual([{ ref: "router", field: ["fixtures", "a", "image"] }]);
  });

  it("quotes mount fields as docker's CSV parser reads them, and names the native platform", () => {
    expect(mountArg("bind", '/a,b/"c"', "/t")).toEqual(["--mount", 'type=bind,"source=/a,b/""c""",target=/t,readonly']);
    expect(nativePlatform("x64")).toBe("linux/amd64");
    expect(nativePlatform("arm64")).toBe("linux/arm64");
  });
});
