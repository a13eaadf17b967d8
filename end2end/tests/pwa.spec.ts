// Parley as an installable app: a valid manifest with icons, a service
// worker that registers and keeps an offline page, Chromium's own verdict
// that it can be installed, and a push shown by the service worker.
import { chromium } from "@playwright/test";
import { expect, test } from "./support/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkspace, signUp, unique } from "./support/actions";
import { pushesTo } from "./support/push";

/** Width and height from a PNG's header. */
function pngSize(bytes: Buffer): [number, number] {
  expect(bytes.subarray(1, 4).toString("ascii")).toBe("PNG");
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

test("the manifest is valid and its icons are what it says", async ({ request }) => {
  const res = await request.get("/manifest.webmanifest");
  expect(res.ok()).toBe(true);
  const manifest = await res.json();
  expect(manifest.name).toBe("Parley");
  expect(manifest.start_url).toBe("/");
  expect(manifest.display).toBe("standalone");
  const pngs = manifest.icons.filter((i: { type: string }) => i.type === "image/png");
  expect(pngs.map((i: { sizes: string }) => i.sizes)).toEqual(expect.arrayContaining(["192x192", "512x512"]));
  for (const icon of pngs) {
    const img = await request.get(icon.src);
    expect(img.ok()).toBe(true);
    expect(img.headers()["content-type"]).toBe("image/png");
    const [w, h] = pngSize(await img.body());
    expect(`${w}x${h}`).toBe(icon.sizes);
  }
});

test("the service worker registers, Chromium finds the app installable, and offline shows the offline page", async ({ baseURL }, testInfo) => {
  // Installing needs a profile of one's own (Chromium never offers it in a private window).
  const profile = mkdtempSync(join(tmpdir(), "parley-pwa-"));
  const context = await chromium.launchPersistentContext(profile, { ...testInfo.project.use.launchOptions, baseURL });
  const page = context.pages()[0] ?? (await context.newPage());
  await signUp(page, unique("pwa"), "Pia");
  await createWorkspace(page, "Installable");
  const script = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
  expect(script).toMatch(/\/sw\.js$/);

  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
  expect(installabilityErrors).toEqual([]);
  const { url, errors } = await cdp.send("Page.getAppManifest");
  expect(url).toMatch(/\/manifest\.webmanifest$/);
  expect(errors).toEqual([]);

  // The worker controls the page once it has claimed it; then the network goes.
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  const here = page.url();
  await context.setOffline(true);
  await page.goto(here);
  await expect(page.getByRole("heading", { name: "You are offline" })).toBeVisible();
  await context.setOffline(false);
  await page.getByRole("link", { name: "Try again" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await context.close();
  rmSync(profile, { recursive: true, force: true });
});

test("a push delivered to the service worker is shown, one per channel", async ({ browser, baseURL }) => {
  const context = await browser.newContext();
  await context.grantPermissions(["notifications"]);
  const page = await context.newPage();
  await signUp(page, unique("push"), "Pat");
  await createWorkspace(page, "Pushy");
  const { deliver, shown } = await pushesTo(page, baseURL!);
  await deliver({ title: "Ana mentioned you in #general", body: "lunch?", url: "/w/1/c/2", tag: "ch:2", count: 1, id: "10" });
  await deliver({ title: "Ana mentioned you in #general", body: "lunch? (+1 more)", url: "/w/1/c/2", tag: "ch:2", count: 2, id: "11" });
  await deliver({ title: "Bo posted in #random", body: "hi", url: "/w/1/c/3", tag: "ch:3", count: 1, id: "12" });
  // Pushes are shown one after another: wait for the last of each channel
  // (a count alone can be reached while the first of #general still shows).
  await expect
    .poll(shown)
    .toEqual(
      expect.arrayContaining([
        { title: "Ana mentioned you in #general", body: "lunch? (+1 more)", tag: "ch:2", url: "/w/1/c/2" },
        { title: "Bo posted in #random", body: "hi", tag: "ch:3", url: "/w/1/c/3" },
      ]),
    );
  expect(await shown()).toHaveLength(2);
  await context.close();
});
