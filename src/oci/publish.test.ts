import { describe, expect, it } from "vitest";
import { qualifiedName } from "./publish.ts";

describe("qualifiedName", () => {
  it("qualifies short names the way the containerd image store keeps them", () => {
    expect(qualifiedName("kiln/x:1")).toBe("docker.io/kiln/x:1");
    expect(qualifiedName("x:1")).toBe("docker.io/library/x:1");
    expect(qualifiedName("127.0.0.1:5000/x:1")).toBe("127.0.0.1:5000/x:1");
  });
});
