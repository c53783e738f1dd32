import { describe, expect, it } from "vitest";
import { parseDigestRef, repositoryOf } from "./oras.ts";

const digest = `sha256:${"e".repeat(64)}`;

describe("references", () => {
  it("takes the repository out of a tagged or digest reference, ports kept", () => {
    expect(repositoryOf("127.0.0.1:5000/kiln/router:1.0")).toBe("127.0.0.1:5000/kiln/router");
    expect(repositoryOf(`127.0.0.1:5000/router@${digest}`)).toBe("127.0.0.1:5000/router");
    expect(repositoryOf("127.0.0.1:5000/router")).toBe("127.0.0.1:5000/router");
  });

  it("accepts only REGISTRY/NAME@sha256:<hex> for a rebuild", () => {
    expect(parseDigestRef(`127.0.0.1:5000/router@${digest}`)).toEqual({ repository: "127.0.0.1:5000/router", digest });
    expect(() => parseDigestRef("127.0.0.1:5000/router:latest")).toThrow(/not an image reference by digest/);
    expect(() => parseDigestRef(`router@${digest}`)).toThrow(/not an image reference by digest/);
    expect(() => parseDigestRef(`127.0.0.1:5000/router@sha256:abc`)).toThrow(/not an image reference by digest/);
  });
});
