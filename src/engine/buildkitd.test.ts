import { describe, expect, it } from "vitest";
import { buildkitdRunArgs, clientAddress, connectionLines } from "./buildkitd.ts";
import { tlsMaterialAt } from "./tls-material.ts";

const spec = { name: "kiln-buildkitd", listen: "127.0.0.1", port: 1234, network: "bridge" as const, hosts: [], privilegeArgs: ["--privileged"] };

describe("kiln's buildkitd", () => {
  it("runs the image by its store digest with exactly the declared privileges, the server's TLS files read-only, state in a named volume", () => {
    const tls = tlsMaterialAt("/var/lib/kiln/buildkitd/kiln-buildkitd/certs");
    expect(buildkitdRunArgs(spec, tls, "kiln/buildkit:0123456789ab", "sha256:0123456789abcdef")).toEqual([
      "run", "--detach", "--name", "kiln-buildkitd",
      "--label", "dev.kiln.buildkitd=sha256:0123456789abcdef",
      "--restart", "unless-stopped",
      "--privileged",
      "--publish", "127.0.0.1:1234:1234",
      "--volume", "/var/lib/kiln/buildkitd/kiln-buildkitd/certs/server/cert.pem:/certs/cert.pem:ro",
      "--volume", "/var/lib/kiln/buildkitd/kiln-buildkitd/certs/server/key.pem:/certs/key.pem:ro",
      "--volume", "/var/lib/kiln/buildkitd/kiln-buildkitd/certs/ca.pem:/certs/ca.pem:ro",
      "--volume", "kiln-buildkitd-data:/data",
      "--env", "BUILDKIT_TCP=on",
      "kiln/buildkit:0123456789ab",
    ]);
  });

  it("on the host's network, buildkitd binds the address and port itself, its debug port off", () => {
    const argv = buildkitdRunArgs({ ...spec, network: "host", port: 12341 }, tlsMaterialAt("/s"), "kiln/buildkit:0", "sha256:0");
    expect(argv).not.toContain("--publish");
    expect(argv.join(" ")).toContain("--privileged --network host --env BUILDKIT_LISTEN=127.0.0.1 --env BUILDKIT_PORT=12341 --env BUILDKIT_DEBUG_PORT= --volume");
  });

  it("tells clients the address they can dial", () => {
    expect(clientAddress({ listen: "127.0.0.1", port: 1234 })).toBe("tcp://127.0.0.1:1234");
    expect(clientAddress({ listen: "0.0.0.0", port: 9 })).toBe("tcp://127.0.0.1:9");
    expect(clientAddress({ listen: "::1", port: 9 })).toBe("tcp://[::1]:9");
  });

  it("prints the settings as environment variables kiln reads", () => {
    expect(connectionLines({ name: "b", address: "tcp://127.0.0.1:1234", tls: { ca: "/s/ca.pem", cert: "/s/c.pem", key: "/s/k.pem" }, buildctl: "/s/buildctl-0123", image: "sha256:00" })).toEqual([
      "export BUILDKIT_HOST=tcp://127.0.0.1:1234",
      "export KILN_BUILDCTL=/s/buildctl-0123",
      "export KILN_TLS_CA=/s/ca.pem KILN_TLS_CERT=/s/c.pem KILN_TLS_KEY=/s/k.pem",
    ]);
  });
});
