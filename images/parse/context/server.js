// parse: starts parse-server from environment variables, its secrets from files.
//
// Every option parse-server's own CLI reads from the environment is read the same
// way (its Definitions: PARSE_SERVER_APPLICATION_ID, PARSE_SERVER_DATABASE_URI,
// PORT, PARSE_SERVER_MOUNT_PATH, PARSE_SERVER_CLOUD...), except the keys: each is
// read from the file its *_FILE variable names, and the key itself in the
// environment is refused, so that no secret sits in the container's config.
// The database password likewise comes from PARSE_SERVER_DATABASE_PASSWORD_FILE
// and is put into the connection URI in memory only.
//
// Image defaults: port 1337, mount path /parse, the master key from
// /run/secrets/parse-master-key, files on /data/files (the working directory),
// logs to stdout/stderr only (no logs folder: the root is read-only).
// A bad value stops the server with one line on stderr and exit code 64.
"use strict";

const fs = require("node:fs");
const { ParseServerOptions } = require("parse-server/lib/Options/Definitions");

function die(message) {
  process.stderr.write(`parse: ${message}\n`);
  process.exit(64);
}

/** The option keys that are secrets: their values come from files only. */
const SECRET_KEYS = ["masterKey", "readOnlyMasterKey", "maintenanceKey", "restAPIKey", "javascriptKey", "clientKey", "dotNetKey", "fileKey", "webhookKey", "encryptionKey"];
const DEFAULT_MASTER_KEY_FILE = "/run/secrets/parse-master-key";

/** A secret's first line; the file must be readable and not empty. */
function readSecret(variable, file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    die(`${variable}=${file} is not a readable file (${e.code || e.message})`);
  }
  const value = text.split(/\r?\n/, 1)[0];
  if (!value) die(`${variable}=${file} is empty: its first line is the secret`);
  return value;
}

/** What parse-server's CLI would read from the environment, with its parsers. */
function optionsFromEnvironment(env) {
  const options = {};
  for (const [key, def] of Object.entries(ParseServerOptions)) {
    if (!def.env || !env[def.env]) continue;
    if (SECRET_KEYS.includes(key)) die(`${def.env} is a secret and is not read from the environment: put it in a file and set ${def.env}_FILE to its path`);
    try {
      options[key] = def.action ? def.action(env[def.env]) : env[def.env];
    } catch (e) {
      die(`${def.env}: ${e.message || e}`);
    }
  }
  for (const key of SECRET_KEYS) {
    const variable = `${ParseServerOptions[key].env}_FILE`;
    const file = env[variable] || (key === "masterKey" ? DEFAULT_MASTER_KEY_FILE : "");
    if (file) options[key] = readSecret(variable, file);
  }
  return options;
}

/** The database URI with the password from its file (never from the URI in the environment). */
function databaseURI(env) {
  const uri = env.PARSE_SERVER_DATABASE_URI;
  if (!uri) die("PARSE_SERVER_DATABASE_URI is required (postgres://USER@HOST:5432/DATABASE; the password from PARSE_SERVER_DATABASE_PASSWORD_FILE)");
  let url;
  try {
    url = new URL(uri);
  } catch {
    die(`PARSE_SERVER_DATABASE_URI is not a URI: '${uri}'`);
  }
  if (!["postgres:", "postgresql:", "mongodb:", "mongodb+srv:"].includes(url.protocol)) die(`PARSE_SERVER_DATABASE_URI must be a postgres:// (or mongodb://) URI, not '${url.protocol}'`);
  if (url.password) die("PARSE_SERVER_DATABASE_URI carries a password: leave it out and name a file holding it in PARSE_SERVER_DATABASE_PASSWORD_FILE");
  const file = env.PARSE_SERVER_DATABASE_PASSWORD_FILE;
  if (file) {
    if (!url.username) die("PARSE_SERVER_DATABASE_PASSWORD_FILE is set but PARSE_SERVER_DATABASE_URI names no user (postgres://USER@HOST/DATABASE)");
    url.password = encodeURIComponent(readSecret("PARSE_SERVER_DATABASE_PASSWORD_FILE", file));
  }
  return url.toString();
}

function configure(env) {
  if (!env.PARSE_SERVER_APPLICATION_ID) die("PARSE_SERVER_APPLICATION_ID is required: the application id clients send (X-Parse-Application-Id)");
  const options = optionsFromEnvironment(env);
  options.databaseURI = databaseURI(env);
  if (options.logsFolder === "null") options.logsFolder = null;
  const port = options.port ?? 1337;
  if (!Number.isInteger(port) || port < 1024 || port > 65535) die(`PORT must be a port number above 1023 (the server runs without privileges), not '${env.PORT}'`);
  options.port = port;
  options.mountPath = options.mountPath || "/parse";
  if (!options.mountPath.startsWith("/")) die(`PARSE_SERVER_MOUNT_PATH must start with /, not '${options.mountPath}'`);
  // The server calls itself (cloud code, Parse.Query in triggers) through serverURL.
  options.serverURL = options.serverURL || `http://localhost:${port}${options.mountPath}`;
  // Files on the /data volume (parse-server's default adapter would store them in MongoDB's GridFS).
  if (!options.filesAdapter) {
    const FileSystemAdapter = require("@parse/fs-files-adapter");
    options.filesAdapter = new FileSystemAdapter(options.encryptionKey ? { encryptionKey: options.encryptionKey } : {});
  }
  return options;
}

async function main() {
  // No logs folder unless one is named: the container's log is stdout/stderr. Set before parse-server
  // is loaded: its default logger is made when the module loads ("null" is its parser's null).
  if (!process.env.PARSE_SERVER_LOGS_FOLDER) process.env.PARSE_SERVER_LOGS_FOLDER = "null";
  const options = configure(process.env);
  const { ParseServer } = require("parse-server");
  try {
    await ParseServer.startApp(options);
  } catch (e) {
    process.stderr.write(`parse: parse-server did not start: ${(e && e.message) || e}\n`);
    process.exit(1);
  }
  // parse-server's own SIGTERM/SIGINT handler closes the listener, the open connections and the
  // database pool; should anything keep the process up after that, it exits within docker stop's grace.
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => setTimeout(() => process.exit(0), 5000).unref());
  process.stdout.write(`parse: parse-server ${require("parse-server/package.json").version} on port ${options.port}, mount path ${options.mountPath}\n`);
}

main();
