import { describe, expect, it } from "vitest";
import { inspectField, parseBuilderInspect, parseNodes } from "./buildx-inspect.ts";

describe("docker buildx inspect", () => {
  it("reads docker buildx inspect text", () => {
    const out = `Name:          default
Driver:        docker
Last Activity: 2026-11-29 17:52:30 +0000 UTC

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.0.0+unknown
Platforms:        linux/amd64, linux/amd64/v2, linux/arm64
`;
    expect(parseBuilderInspect(out)).toEqual({
      name: "default",
      driver: "docker",
      status: "running",
      buildkitVersion: "v0.0.0+unknown",
      platforms: ["linux/amd64", "linux/amd64/v2", "linux/arm64"],
      error: undefined,
    });
    // A builder with remote nodes marks the platforms it was told to build.
    expect(parseBuilderInspect("Name: kiln-nodes\nDriver: remote\nPlatforms: linux/amd64*, linux/arm64*\n").platforms).toEqual(["linux/amd64", "linux/arm64"]);
    expect(parseBuilderInspect("Name: default\nDriver:\nError: Cannot connect to the Docker daemon\n").error).toBe("Cannot connect to the Docker daemon");
  });

  it("reads each node's endpoint, status and platforms from docker buildx inspect", () => {
    const out = [
      "Name:          kiln-nodes",
      "Driver:        remote",
      "",
      "Nodes:",
      "Name:             amd",
      "Endpoint:         tcp://127.0.0.1:12341",
      "Status:           running",
      "BuildKit version: v0.26.3",
      "Platforms:        linux/amd64*, linux/amd64/v2",
      "",
      "Name:             arm",
      "Endpoint:         tcp://127.0.0.1:12342",
      "Status:           inactive",
      "Platforms:        linux/arm64*",
    ].join("\n");
    expect(parseNodes(out)).toEqual([
      { name: "amd", endpoint: "tcp://127.0.0.1:12341", status: "running", platforms: ["linux/amd64", "linux/amd64/v2"] },
      { name: "arm", endpoint: "tcp://127.0.0.1:12342", status: "inactive", platforms: ["linux/arm64"] },
    ]);
  });
  it("reads a field only from its own line, empty as absent", () => {
    expect(inspectField("Driver:\nStatus: running\n", "Driver")).toBeUndefined();
    expect(inspectField("Name: a\nDriver: remote\n", "Driver")).toBe("remote");
  });
});
