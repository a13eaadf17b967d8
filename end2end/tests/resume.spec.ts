// A page whose connection drops, or whose server restarts, resumes its
// gateway session: what was posted meanwhile appears without a reload.
// These tests run their own server behind a TCP relay they can cut.
import { expect, test } from "./support/test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { twoPeople } from "./support/actions";
import { expectLive, expectMessage } from "./support/checks";

const serverPort = Number(process.env.PARLEY_E2E_PORT ?? 3100) + 80;
const relayPort = serverPort + 1;
const base = `http://127.0.0.1:${relayPort}`;
const direct = `http://127.0.0.1:${serverPort}`;
const dataDir = mkdtempSync(join(tmpdir(), "parley-e2e-resume-"));

let server: ChildProcess | undefined;

function startServer() {
  server = spawn(process.env.PARLEY_BIN!, [], {
    stdio: "ignore",
    env: {
      ...process.env,
      PARLEY_BIND: `127.0.0.1:${serverPort}`,
      PARLEY_PUBLIC_URL: base,
      PARLEY_DATA_DIR: dataDir,
      PARLEY_SITE_ROOT: process.env.PARLEY_SITE_ROOT ?? "../target/site",
      PARLEY_LOG: "warn",
      PARLEY_LIMIT_SIGNUP: "off",
      PARLEY_LIMIT_LOGIN: "off",
      PARLEY_LIMIT_REQUESTS: "off",
    },
  });
}

async function untilHealthy() {
  await expect
    .poll(async () => (await fetch(`${direct}/healthz`).catch(() => undefined))?.status, { timeout: 30_000 })
    .toBe(200);
}

async function stopServer() {
  const s = server;
  if (!s || s.exitCode !== null) return;
  const exited = new Promise((done) => s.once("exit", done));
  s.kill("SIGTERM");
  await exited;
}

/** Passes connections to the server; `cut` ends those open and refuses new ones until `mend`. */
const relay = {
  open: new Set<net.Socket>(),
  refusing: false,
  server: undefined as net.Server | undefined,
  start() {
    this.server = net.createServer((client) => {
      if (this.refusing) return client.destroy();
      const upstream = net.connect(serverPort, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.open.add(s);
        s.on("close", () => this.open.delete(s));
        s.on("error", () => (s === client ? upstream : client).destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    return new Promise<void>((done) => this.server!.listen(relayPort, "127.0.0.1", done));
  },
  cut() {
    this.refusing = true;
    for (const s of this.open) s.destroy();
  },
  mend() {
    this.refusing = false;
  },
};

/** Ana posts in the channel through the API, straight to the server. */
async function post(token: string, channel: string, body: string) {
  const res = await fetch(`${direct}/api/communication/messages/`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ channel_id: channel, body }),
  });
  expect(res.status).toBe(201);
}

async function tokenOf(username: string) {
  const res = await fetch(`${direct}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: "correct horse battery" }),
  });
  expect(res.status).toBe(200);
  return (await res.json()).token as string;
}

test.use({ baseURL: base });

test.describe.serial("a page resumes its live session", () => {
  test.beforeAll(async () => {
    startServer();
    await untilHealthy();
    await relay.start();
  });

  test.afterAll(async () => {
    await stopServer();
    relay.server?.close();
  });

  for (const fault of ["its connection is cut", "its server restarts"] as const) {
    test(`when ${fault}, every message posted meanwhile appears without reloading`, async ({ browser }) => {
      const { b, ana, close } = await twoPeople(browser, `Resume ${fault}`);
      const channel = /\/c\/(\d+)/.exec(b.url())![1];
      const token = await tokenOf(ana);
      await b.evaluate(() => ((window as any).sameDocument = true));
      const resumes = Number((await b.locator("html").getAttribute("data-live-resumes")) ?? 0);

      relay.cut();
      await expect(b.locator("html")).not.toHaveAttribute("data-live", "connected");
      if (fault === "its server restarts") {
        await stopServer();
        startServer();
        await untilHealthy();
      }
      for (const n of [1, 2, 3]) await post(token, channel, `posted while away ${n}`);
      relay.mend();

      await expectLive(b);
      for (const n of [1, 2, 3]) await expectMessage(b, "Ana", `posted while away ${n}`, 20_000);
      await expect(b.locator("html")).toHaveAttribute("data-live-resumes", String(resumes + 1));
      expect(await b.evaluate(() => (window as any).sameDocument)).toBe(true);
      await close();
    });
  }
});
