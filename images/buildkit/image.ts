import { defineImage } from "../../src/index.ts";

/**
 * An HTTP GET of the debug listener with bash alone (the image has no curl): the whole answer, or
 * bash's "Connection refused" and exit 1 when nothing listens at that address.
 */
const debugGet = (host: string, path: string) => [
  "bash",
  "-c",
  `exec 3<>/dev/tcp/${host}/6060 || exit 1; printf 'GET ${path} HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' >&3; while IFS= read -r line <&3 || [ -n "$line" ]; do printf '%s\\n' "$line"; done`,
];
const METRICS = ["200 OK", "# TYPE go_goroutines gauge"];

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
        // The service check runs without certificates: the unix socket (healthcheck) only. The debug port
        // (metrics, pprof) is on loopback by default, so no port is probed from outside: the scenarios
        // "debug listener" prove it closed there and open when asked (README.md "Security").
        env: { BUILDKIT_TCP: "off" },
        volumes: ["/data"],
        healthcheck: true,
        sizeBudgetMB: 40,
        tests: [
          { name: "buildkitd version", command: [], entrypoint: ["buildkitd", "--version"], outputContains: ["buildkitd github.com/moby/buildkit v0.26.3 c70e8e666f8f6ee3c0d83b20c338be5aedeaa97a"] },
          { name: "buildctl version", command: [], entrypoint: ["buildctl", "--version"], outputContains: ["buildctl github.com/moby/buildkit v0.26.3"] },
          { name: "runc version", command: [], entrypoint: ["runc", "--version"], outputContains: ["runc version 1.1"] },
          { name: "a debug address that is not IPv4 is refused", command: [], entrypoint: ["bash", "-c", "BUILDKIT_DEBUG_LISTEN=all exec /boot/entrypoint.sh"], exitCode: 64, outputContains: ["buildkit: BUILDKIT_DEBUG_LISTEN must be an IPv4 address, not 'all'"] },
          { name: "refuses to start without certificates", command: [], entrypoint: ["bash", "-c", "BUILDKIT_TCP=on exec /boot/entrypoint.sh"], exitCode: 64, outputContains: ["buildkit: /certs/ca.pem is missing"] },
        ],
        clients: [
          {
            name: "debug listener by default",
            client: "buildkit:image",
            steps: [
              { name: "the container's address does not answer on 6060", command: debugGet("service", "/metrics"), exitCode: 1, outputContains: ["Connection refused"], outputExcludes: METRICS },
              { name: "loopback inside the container serves metrics", in: "service", command: debugGet("127.0.0.1", "/metrics"), outputContains: METRICS },
            ],
          },
          {
            name: "debug listener when asked",
            client: "buildkit:image",
            env: { BUILDKIT_DEBUG_LISTEN: "0.0.0.0" },
            steps: [{ name: "the container's address serves metrics", command: debugGet("service", "/metrics"), outputContains: METRICS }],
          },
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
