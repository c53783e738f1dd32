import { defineImage } from "../../src/index.ts";

/** buildctl of the client image, with the proof's certificates (test/make-fixtures.sh). */
const buildctl = (certs: string) => ["buildctl", "--addr", "tcp://service:1234", "--tlsservername", "service", "--tlscacert", `/kiln/test/${certs}/ca.pem`, "--tlscert", `/kiln/test/${certs}/cert.pem`, "--tlskey", `/kiln/test/${certs}/key.pem`];

export default defineImage({
  name: "buildkit",
  category: "tooling",
  description: "BuildKit daemon (buildkitd) and client (buildctl) built from source, OCI worker with Debian's runc, TCP with mutual TLS, state in /data",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    // Sites without GitHub reach it through settings git.insteadOf (docs/settings.md).
    git: { buildkit: { url: "https://github.com/moby/buildkit", ref: "v0.26.3" } },
    debian: { suite: "bookworm", packages: ["runc"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/buildkit"], tags: ["latest", "0.26.3-{snapshotDate}"] },
  metadata: { title: "kiln buildkit", licenses: "Apache-2.0", documentation: "images/buildkit/README.md", source: "https://github.com/moby/buildkit" },
  targets: {
    image: {
      runtime: {
        user: "0",
        tooling: true,
        // Exactly what README.md ("Privileges") documents; kiln test grants this and nothing more.
        privileges: { privileged: true, reason: "buildkitd runs every RUN step in a runc container: new namespaces, mounts, cgroups" },
        // The service check runs without certificates: the unix socket (healthcheck) and the debug port only.
        env: { BUILDKIT_TCP: "off" },
        ports: [6060],
        volumes: ["/data"],
        healthcheck: true,
        metrics: { port: 6060, path: "/metrics" },
        sizeBudgetMB: 40,
        tests: [
          { name: "buildkitd version", command: [], entrypoint: ["buildkitd", "--version"], outputContains: ["buildkitd github.com/moby/buildkit v0.26.3 c70e8e666f8f6ee3c0d83b20c338be5aedeaa97a"] },
          { name: "buildctl version", command: [], entrypoint: ["buildctl", "--version"], outputContains: ["buildctl github.com/moby/buildkit v0.26.3"] },
          { name: "runc version", command: [], entrypoint: ["runc", "--version"], outputContains: ["runc version 1.1"] },
          { name: "refuses to start without certificates", command: [], entrypoint: ["bash", "-c", "BUILDKIT_TCP=on exec /boot/entrypoint.sh"], exitCode: 64, outputContains: ["buildkit: /certs/ca.pem is missing"] },
        ],
        clients: [
          {
            name: "mutual TLS",
            client: "buildkit:image",
            env: { BUILDKIT_TCP: "on" },
            files: { "/certs": "test/server" },
            // The refusals differ from the first step only in the client's certificate. Under TLS 1.3 the
            // server rejects it after the client's handshake is done, so the client sees a closed
            // connection (broken pipe or EOF), not a certificate message.
            steps: [
              // Both platforms: the native one and the one binfmt emulates (the engine's host has it registered).
              { name: "a client with a certificate from the CA lists the workers", mount: ["test"], command: [...buildctl("client"), "debug", "workers"], outputContains: ["PLATFORMS", "linux/amd64", "linux/arm64"] },
              {
                name: "a build runs in a runc container",
                mount: ["test"],
                command: [...buildctl("client"), "build", "--progress", "plain", "--frontend", "dockerfile.v0", "--local", "context=/usr/bin", "--local", "dockerfile=/kiln/test/run"],
                outputContains: ["buildctl github.com/moby/buildkit v0.26.3"],
              },
              { name: "a client certificate from another CA is refused", mount: ["test"], command: [...buildctl("wrong"), "debug", "workers"], exitCode: 1, outputContains: ["failed to list workers"] },
              {
                name: "a client without a certificate is refused",
                mount: ["test"],
                command: ["buildctl", "--addr", "tcp://service:1234", "--tlsservername", "service", "--tlscacert", "/kiln/test/client/ca.pem", "debug", "workers"],
                exitCode: 1,
                outputContains: ["failed to list workers"],
              },
            ],
          },
        ],
      },
    },
  },
});
