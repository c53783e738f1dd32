import { describe, expect, it } from "vitest";
import { hardenedArgs, privilegeArgs } from "./docker.ts";

describe("the hardened profile", () => {
  const base = { user: "2000", platform: "linux/amd64", volumes: [], env: {} };

  it("grants nothing beyond the lockdown by default", () => {
    const args = hardenedArgs(base);
    expect(args).toEqual(expect.arrayContaining(["--read-only", "--cap-drop=ALL", "no-new-privileges"]));
    expect(args.join(" ")).not.toMatch(/--privileged|--cap-add|unconfined/);
  });

  it("adds exactly the declared privileges after the lockdown", () => {
    const privileges = { privileged: false, capAdd: ["SYS_ADMIN"], securityOpt: ["seccomp=unconfined", "apparmor=unconfined"] };
    expect(privilegeArgs(privileges)).toEqual(["--cap-add=SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined"]);
    const args = hardenedArgs({ ...base, user: "0", privileges: { ...privileges, privileged: true, capAdd: [], securityOpt: [] } });
    expect(args.filter((a) => a === "--privileged")).toHaveLength(1);
    expect(args.indexOf("--privileged")).toBeGreaterThan(args.indexOf("--cap-drop=ALL"));
    expect(args).toContain("--read-only");
  });

  it("sets declared sysctls and keeps every capability dropped", () => {
    const privileges = { privileged: false, capAdd: [], securityOpt: [], sysctls: { "net.ipv4.ip_unprivileged_port_start": "319" } };
    expect(privilegeArgs(privileges)).toEqual(["--sysctl=net.ipv4.ip_unprivileged_port_start=319"]);
    const args = hardenedArgs({ ...base, privileges });
    expect(args).toContain("--cap-drop=ALL");
    expect(args.join(" ")).not.toMatch(/--privileged|--cap-add/);
  });
});
