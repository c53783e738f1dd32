import { describe, expect, it } from "vitest";
import { settingsSchema } from "../settings/schema.ts";
import { createBuilderArgs, effectiveBuilder } from "./nodes.ts";

const engine = (e: Record<string, unknown>) => settingsSchema.parse({ engine: e }).engine;
const two = engine({
  nodes: [
    { name: "amd", endpoint: "tcp://10.0.0.1:1234", platforms: ["linux/amd64"], tls: { ca: "/c/ca.pem", cert: "/c/cert.pem", key: "/c/key.pem" } },
    { name: "arm", endpoint: "tcp://10.0.0.2:1234", platforms: ["linux/arm64"], tls: { ca: "/d/ca.pem", cert: "/d/cert.pem", key: "/d/key.pem", serverName: "arm.lan" } },
  ],
});

describe("multi-node builder", () => {
  it("creates the builder with the first node and appends the others, each with its platforms and TLS files", () => {
    expect(createBuilderArgs("kiln-nodes", two.nodes)).toEqual([
      ["buildx", "create", "--name", "kiln-nodes", "--driver", "remote", "--driver-opt", "cacert=/c/ca.pem,cert=/c/cert.pem,key=/c/key.pem", "--node", "amd", "--platform", "linux/amd64", "tcp://10.0.0.1:1234"],
      ["buildx", "create", "--append", "--name", "kiln-nodes", "--driver", "remote", "--driver-opt", "cacert=/d/ca.pem,cert=/d/cert.pem,key=/d/key.pem,servername=arm.lan", "--node", "arm", "--platform", "linux/arm64", "tcp://10.0.0.2:1234"],
    ]);
  });

  it("builds with the nodes' builder unless the settings name one", () => {
    expect(effectiveBuilder(two)).toBe("kiln-nodes");
    expect(effectiveBuilder({ ...two, builder: "site" })).toBe("site");
    expect(effectiveBuilder(engine({}))).toBeUndefined();
  });

  it("refuses a platform given to two nodes, and no nodes at all", () => {
    const both = engine({ nodes: [two.nodes[0], { ...two.nodes[1], platforms: ["linux/arm64", "linux/amd64"] }] }).nodes;
    expect(() => createBuilderArgs("b", both)).toThrow("engine.nodes: linux/amd64 is listed by both amd and arm");
    expect(() => createBuilderArgs("b", [])).toThrow("no buildkitd nodes are listed (engine.nodes)");
  });

  it("the settings refuse a relative TLS file, an endpoint that is no address, and a bad platform", () => {
    const bad = (node: Record<string, unknown>) => settingsSchema.safeParse({ engine: { nodes: [{ name: "n", endpoint: "tcp://h:1", platforms: ["linux/amd64"], ...node }] } }).error?.issues[0]?.message;
    expect(bad({ tls: { ca: "certs/ca.pem" } })).toBe("expects an absolute file path");
    expect(bad({ endpoint: "h:1234" })).toBe("a buildkitd address: tcp://HOST:PORT or unix:///PATH");
    expect(bad({ platforms: ["arm64"] })).toBe("a platform like linux/arm64");
  });
});
