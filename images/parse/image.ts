import { defineImage } from "../../src/index.ts";

/** The proof's application id and keys (test/: fixture credentials, not secrets). */
const APP = "kiln-proof";
const SECRETS = {
  "/run/secrets/parse-master-key": "test/master-key",
  "/run/secrets/parse-rest-api-key": "test/rest-api-key",
  "/run/secrets/database-password": "test/database-password",
};
/** curl from the tools image against the service, printing the body then `HTTP <status>`. */
const curl = (args: string) =>
  `curl -sS -w '\\nHTTP %{http_code}\\n' -H 'X-Parse-Application-Id: ${APP}' -H "X-Parse-REST-API-Key: $(< /kiln/test/rest-api-key)" ${args}`;
const api = (name: string, script: string, outputContains: string[], extra: { outputExcludes?: string[]; restart?: boolean } = {}) => ({
  name,
  mount: ["test" as const],
  command: ["bash", "-c", script],
  outputContains,
  ...extra,
});
const QUERY = `${curl("-G --data-urlencode 'where={\"playerName\":\"Sean Plott\"}' http://service:1337/parse/classes/GameScore")}`;

export default defineImage({
  name: "parse",
  category: "experimental",
  description: "Parse Server 7 (parse-server from npm, pinned by its package-lock) on Debian's Node.js 18, as uid 2000, backed by PostgreSQL",
  context: "context",
  dockerfile: "Dockerfile",
  parents: { "base-builder": "base:builder", "base-auditor": "base:auditor", "base-runtime": "base:runtime" },
  inputs: {
    debian: { suite: "bookworm", packages: ["nodejs"], onTopOf: "base-runtime" },
    npm: {
      "parse-server": { lockfile: "context/server/package-lock.json" },
      npm: { lockfile: "context/npm/package-lock.json" },
    },
  },
  outputs: { names: ["kiln/parse"], tags: ["latest", "7-{snapshotDate}"] },
  metadata: { title: "kiln parse", licenses: "Apache-2.0", documentation: "images/parse/README.md" },
  targets: {
    image: {
      runtime: {
        user: "2000",
        ports: [1337],
        volumes: ["/data"],
        healthcheck: true,
        // It serves only with a database: health and the port probe are judged on the scenario's service, beside postgres.
        standalone: false,
        // parse-server has no Prometheus endpoint (README.md "Metrics").
        sizeBudgetMB: 60,
        tests: [
          { name: "node version", command: ["node", "--version"], outputContains: ["v18."] },
          {
            name: "parse-server loads",
            command: ["node", "-p", "require('/app/node_modules/parse-server/package.json').version"],
            outputContains: ["7.5.4"],
          },
          {
            name: "no application id: one line, exit 64",
            command: [],
            exitCode: 64,
            outputContains: ["parse: PARSE_SERVER_APPLICATION_ID is required"],
          },
          {
            name: "a key in the environment is refused",
            command: [],
            entrypoint: ["bash", "-c", "PARSE_SERVER_APPLICATION_ID=x PARSE_SERVER_MASTER_KEY=in-env exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["parse: PARSE_SERVER_MASTER_KEY is a secret and is not read from the environment: put it in a file and set PARSE_SERVER_MASTER_KEY_FILE to its path"],
          },
          {
            name: "a master key file named but missing is refused",
            command: [],
            entrypoint: ["bash", "-c", "PARSE_SERVER_APPLICATION_ID=x exec /boot/entrypoint.sh"],
            exitCode: 64,
            outputContains: ["parse: PARSE_SERVER_MASTER_KEY_FILE=/run/secrets/parse-master-key is not a readable file (ENOENT)"],
          },
        ],
        clients: [
          {
            name: "rest api",
            env: {
              PARSE_SERVER_APPLICATION_ID: APP,
              PARSE_SERVER_DATABASE_URI: "postgres://postgres@db:5432/parse",
              PARSE_SERVER_DATABASE_PASSWORD_FILE: "/run/secrets/database-password",
              PARSE_SERVER_REST_API_KEY_FILE: "/run/secrets/parse-rest-api-key",
              // The master key is accepted from the test network (by default only from the container itself).
              PARSE_SERVER_MASTER_KEY_IPS: "0.0.0.0/0,::/0",
            },
            files: SECRETS,
            fixtures: {
              db: {
                image: "postgres:image",
                env: { POSTGRES_DB: "parse" },
                files: { "/run/secrets/postgres-password": "test/database-password" },
                ready: { healthy: true, timeoutSeconds: 120 },
              },
            },
            steps: [
              api(
                "the class is made with the master key",
                `${curl(`-H "X-Parse-Master-Key: $(< /kiln/test/master-key)" -H 'Content-Type: application/json' -d '{"className":"GameScore","fields":{"score":{"type":"Number"},"playerName":{"type":"String"}}}' http://service:1337/parse/schemas/GameScore`)}`,
                ['"className":"GameScore"', "HTTP 200"],
              ),
              api(
                "an object is created over the REST API",
                `${curl(`-H 'Content-Type: application/json' -d '{"score":1337,"playerName":"Sean Plott","cheatMode":false}' http://service:1337/parse/classes/GameScore`)}`,
                ['"objectId":"', '"createdAt":"', "HTTP 201"],
              ),
              api("it is queried back", QUERY, ['"results":[{"objectId":"', '"score":1337', '"playerName":"Sean Plott"', "HTTP 200"]),
              api(
                "a wrong application id is refused",
                `curl -sS -w '\\nHTTP %{http_code}\\n' -H 'X-Parse-Application-Id: not-the-app' "http://service:1337/parse/classes/GameScore"`,
                ['{"error":"unauthorized"}', "HTTP 403"],
                { outputExcludes: ["Sean Plott"] },
              ),
              api(
                "a wrong REST API key is refused",
                `curl -sS -w '\\nHTTP %{http_code}\\n' -H 'X-Parse-Application-Id: ${APP}' -H 'X-Parse-REST-API-Key: not-the-key' "http://service:1337/parse/classes/GameScore"`,
                ['{"error":"unauthorized"}', "HTTP 403"],
                { outputExcludes: ["Sean Plott"] },
              ),
              api(
                "a client may not make a class",
                `${curl(`-H 'Content-Type: application/json' -d '{"a":1}' http://service:1337/parse/classes/Unplanned`)}`,
                ['"code":119', "This user is not allowed to access non-existent class: Unplanned", "HTTP 400"],
              ),
              {
                name: "the object is a row in postgres",
                mount: ["test"],
                command: ["bash", "-c", `PGPASSWORD="$(< /kiln/test/database-password)" psql -At "host=db user=postgres dbname=parse" -c 'SELECT concat("playerName", $$=$$, score) FROM "GameScore"'`],
                outputContains: ["Sean Plott=1337"],
              },
              api("after a restart the object is still served", QUERY, ['"playerName":"Sean Plott"', "HTTP 200"], { restart: true }),
              {
                name: "the server logs its start, no stack trace",
                serviceLog: true,
                outputContains: ["parse: parse-server 7.5.4 on port 1337, mount path /parse"],
                outputExcludes: ["did not start", "uncaught exception", "    at "],
              },
            ],
          },
        ],
      },
    },
  },
});
