import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The server under test: the release binary built by scripts/test, on a
// fresh SQLite database in a temporary data directory.
const port = Number(process.env.PARLEY_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const bin = process.env.PARLEY_BIN;
if (!bin) throw new Error("Set PARLEY_BIN to the parley binary (scripts/test does).");
// Made once, in the runner: its workers read the config again, and find it
// in their environment (tests search its files).
process.env.PARLEY_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "parley-e2e-"));
const dataDir = process.env.PARLEY_E2E_DATA_DIR;

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        // Calls: a fake camera and microphone, and no permission prompts.
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
      ],
    },
  },
  projects: [
    { name: "hydrated", testIgnore: /nojs\.spec\.ts/ },
    { name: "ssr-only", testMatch: /nojs\.spec\.ts/, use: { javaScriptEnabled: false } },
  ],
  webServer: {
    command: bin,
    url: `${baseURL}/healthz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PARLEY_BIND: `127.0.0.1:${port}`,
      PARLEY_PUBLIC_URL: baseURL,
      PARLEY_DATA_DIR: dataDir,
      PARLEY_SITE_ROOT: process.env.PARLEY_SITE_ROOT ?? "../target/site",
      PARLEY_LOG: "warn",
      // Every test signs people up and in from this one address, far more
      // often than any office would; the other limits stay as shipped.
      PARLEY_LIMIT_SIGNUP: "off",
      PARLEY_LIMIT_LOGIN: "off",
      PARLEY_LIMIT_REQUESTS: "off",
      // Outgoing webhooks call receivers the tests run on loopback.
      PARLEY_PUSH_ALLOW_PRIVATE: "1",
      // The deployment's administrators the compliance tests sign up as.
      PARLEY_ADMINS: "keeper,nokeeper,exporter,noexporter,analyst",
    },
  },
});
