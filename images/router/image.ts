import { defineImage } from "../../src/index.ts";

export default defineImage({
  name: "router",
  category: "infrastructure",
  description: "HTTP router and reverse proxy (Caddy 2.6 from Debian), configured by environment variables",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    // Caddy's Go modules cannot be fetched here: the router is assembled from Debian's binary package.
    // Locked on top of base-runtime: the lock holds just what the router adds (deb-install unpacks it).
    debian: { suite: "bookworm", packages: ["caddy", "media-types"], onTopOf: "base-runtime" },
  },
  outputs: { names: ["kiln/router"], tags: ["latest", "2.6-{snapshotDate}"] },
  metadata: { title: "kiln router", licenses: "Apache-2.0", documentation: "docs/images.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        // 8443 only listens with ROUTER_TLS=internal.
        ports: [8080, 9180],
        volumes: ["/data"],
        env: { ROUTER_ROUTES: "*=respond:hello from kiln router" },
        healthcheck: true,
        metrics: { port: 9180, path: "/metrics" },
        sizeBudgetMB: 25,
        tests: [
          { name: "caddy version", command: ["caddy", "version"], outputContains: ["2.6."] },
          { name: "healthcheck usage", command: ["healthcheck", "--help"], outputContains: ["usage: healthcheck PORT"] },
        ],
        probes: [
          { name: "routes", kind: "http", port: 8080, path: "/", status: 200, bodyContains: ["hello from kiln router"] },
          { name: "health", kind: "http", port: 9180, path: "/health", status: 200, bodyContains: ["ok"] },
          { name: "metrics", kind: "metrics", port: 9180, path: "/metrics", status: 200, bodyContains: ["go_goroutines"] },
        ],
      },
    },
  },
});
