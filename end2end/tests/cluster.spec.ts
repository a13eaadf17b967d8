// A call across two Parley nodes, as people make it: Ana's page is served by
// one node and Bob's by another (one PostgreSQL database, Redis between
// them). The call runs on the node Ana joined through; Bob's signalling
// crosses to it, his media goes straight to it, and each hears and sees the
// other. The nodes are started here, beside the suite's own server.
import { type Browser, type Page } from "@playwright/test";
import { expect, test } from "./support/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createChannel, createWorkspace, inviteLink, signUp, unique } from "./support/actions";

const postgres = process.env.PARLEY_E2E_POSTGRES ?? "postgres://postgres@127.0.0.1:5432";
const redis = process.env.PARLEY_E2E_REDIS ?? "redis://127.0.0.1:6379";
const database = `parley_e2e_cluster_${process.pid}`;
const ports = [Number(process.env.PARLEY_E2E_PORT ?? 3100) + 11, Number(process.env.PARLEY_E2E_PORT ?? 3100) + 12];
const urls = ports.map((p) => `http://127.0.0.1:${p}`);
const nodes: ChildProcess[] = [];
// The nodes keep their data apart, so they share the encryption key through the environment.
const encryptionKey = randomBytes(32).toString("hex");

function sql(statement: string) {
  execFileSync("psql", [`${postgres}/postgres`, "-q", "-c", "SET client_min_messages TO warning", "-c", statement]);
}

/** Starts a node on `port` and waits until it is ready (database and Redis reachable). */
async function startNode(port: number) {
  const url = `http://127.0.0.1:${port}`;
  const node = spawn(process.env.PARLEY_BIN!, [], {
    stdio: "ignore",
    env: {
      ...process.env,
      PARLEY_BIND: `127.0.0.1:${port}`,
      PARLEY_PUBLIC_URL: url,
      DATABASE_URL: `${postgres}/${database}`,
      PARLEY_REDIS_URL: redis,
      PARLEY_DATA_DIR: mkdtempSync(join(tmpdir(), "parley-e2e-node-")),
      PARLEY_ENCRYPTION_KEY: encryptionKey,
      PARLEY_SITE_ROOT: process.env.PARLEY_SITE_ROOT ?? "../target/site",
      PARLEY_LOG: "warn",
      PARLEY_LIMIT_SIGNUP: "off",
      PARLEY_LIMIT_LOGIN: "off",
      PARLEY_LIMIT_REQUESTS: "off",
    },
  });
  nodes.push(node);
  await expect
    .poll(async () => (await fetch(`${url}/readyz`).catch(() => null))?.status ?? 0, { timeout: 60_000, message: `node on ${port} ready` })
    .toBe(200);
}

test.beforeAll(async () => {
  sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  sql(`CREATE DATABASE ${database}`);
  // One after the other: the first sets the database up.
  for (const port of ports) await startNode(port);
});

test.afterAll(async () => {
  for (const node of nodes) node.kill("SIGTERM");
  await Promise.all(nodes.map((n) => new Promise((done) => (n.exitCode !== null ? done(null) : n.once("exit", done)))));
  sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

/** Bytes of `stat` (audio-in, video-in, …) the page's call has counted so far. */
async function bytes(page: Page, stat: string): Promise<number> {
  return Number(await page.locator(`dd[data-stat="${stat}"]`).getAttribute("data-bytes"));
}

async function grows(page: Page, stat: string, by: number) {
  const start = await bytes(page, stat);
  await expect.poll(() => bytes(page, stat), { timeout: 20_000, message: `${stat} growing by ${by}` }).toBeGreaterThan(start + by);
}

/** Ana on the first node makes a workspace; Bob joins it through the second. */
async function peopleOnTwoNodes(browser: Browser) {
  const anaContext = await browser.newContext({ baseURL: urls[0] });
  const bobContext = await browser.newContext({ baseURL: urls[1] });
  const a = await anaContext.newPage();
  const b = await bobContext.newPage();
  await signUp(a, unique("ana"), "Ana");
  await createWorkspace(a, "Across nodes");
  // The same invite, opened on Bob's node.
  await b.goto(new URL(await inviteLink(a)).pathname);
  await b.getByRole("link", { name: "Create an account to join" }).click();
  await signUp(b, unique("bob"), "Bob", "");
  await b.getByRole("button", { name: "Join as Bob" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  for (const page of [a, b]) await expect(page.locator("html")).toHaveAttribute("data-live", "connected", { timeout: 10_000 });
  return { a, b, close: () => Promise.all([anaContext.close(), bobContext.close()]) };
}

test("people on two nodes hear and see each other in one call", async ({ browser }) => {
  const { a, b, close } = await peopleOnTwoNodes(browser);
  await createChannel(a, "lounge", { kind: "voice" });
  // Bob's node shows the channel Ana's node made, live.
  await b.getByRole("link", { name: "lounge" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "lounge" })).toBeVisible();

  await a.getByRole("button", { name: "Join call" }).click();
  await expect(a.locator("section.call-stage")).toHaveAttribute("data-phase", "connected", { timeout: 15_000 });
  // Bob's node shows Ana in the call that the other node runs.
  await expect(b.getByRole("list", { name: "In the call in lounge" })).toContainText("Ana");
  await b.getByRole("button", { name: "Join call" }).click();
  await expect(b.locator("section.call-stage")).toHaveAttribute("data-phase", "connected", { timeout: 15_000 });
  for (const page of [a, b]) {
    await page.getByRole("toolbar", { name: "Call controls" }).getByRole("button", { name: "Turn camera on" }).click();
  }
  for (const page of [a, b]) {
    await grows(page, "audio-in", 2_000);
    await grows(page, "video-in", 20_000);
  }
  await expect(a.locator('li.tile[data-user^="bob"]')).toBeVisible();
  await expect(b.locator('li.tile[data-user^="ana"]')).toBeVisible();

  // Bob leaves through his node: Ana's page, on the call's node, shows her alone.
  await b.getByRole("region", { name: "Your call" }).getByRole("button", { name: "Leave" }).click();
  await expect(a.locator('li.tile[data-user^="bob"]')).toHaveCount(0);
  await close();
});
