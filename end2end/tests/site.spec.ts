// What the release build serves: the app's files under names hashed from
// their content, compressed with brotli, kept by the browser for good; an
// unchanged page revalidated without being sent again.
import { expect, test } from "./support/test";
import { createWorkspace, signUp, unique } from "./support/actions";
import { expectLive } from "./support/checks";

test("the app's files arrive brotli-compressed under hashed names that the browser keeps", async ({ page }) => {
  const files = new Map<string, Record<string, string>>();
  page.on("response", (res) => {
    const url = new URL(res.url());
    if (url.pathname.startsWith("/pkg/")) files.set(url.pathname, res.headers());
  });
  await signUp(page, unique("site"), "Sita");
  await createWorkspace(page, "Hashed");
  await expectLive(page);
  for (const kind of ["js", "wasm", "css"]) {
    const name = [...files.keys()].find((p) => p.endsWith(`.${kind}`));
    expect(name, `the page loads the app's ${kind}`).toMatch(new RegExp(`^/pkg/parley\\.[0-9a-f]{16}\\.${kind}$`));
    const headers = files.get(name!)!;
    expect(headers["content-encoding"], name).toBe("br");
    expect(headers["cache-control"], name).toBe("public, max-age=31536000, immutable");
  }
});

// Rarely used pages (the settings pages, meetings, one's account) are parts
// of the app fetched when first opened, not in the WebAssembly every page loads.
test("a settings page's part of the app is fetched when the page is opened, under a hashed name the browser keeps", async ({
  page,
}) => {
  const files = new Map<string, Record<string, string>>();
  page.on("response", (res) => {
    const url = new URL(res.url());
    if (url.pathname.startsWith("/pkg/")) files.set(url.pathname, res.headers());
  });
  const parts = () => [...files.keys()].filter((p) => p.startsWith("/pkg/split_"));
  await signUp(page, unique("lazy"), "Lazlo");
  await createWorkspace(page, "Lazy");
  await expectLive(page);
  expect(parts(), "the channel page loads no lazily loaded part").toEqual([]);

  await page.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Workspace settings" })).toBeVisible();
  const part = parts().find((p) => p.includes("settings_route"));
  expect(part, "the settings page's part").toMatch(/^\/pkg\/split_[a-z0-9_]+\.[0-9a-f]{16}\.wasm$/);
  expect(files.get(part!)!["content-encoding"], part).toBe("br");
  expect(files.get(part!)!["cache-control"], part).toBe("public, max-age=31536000, immutable");
  // The page works: a role is made from it without a reload.
  const form = page.getByRole("form", { name: "Create a role" });
  if (!(await form.isVisible())) await page.getByText("+ New role").click();
  await form.getByLabel("Name", { exact: true }).fill("Lazy role");
  await form.getByRole("button", { name: "Create role" }).click();
  await expect(page.locator('li.role[data-role="Lazy role"]')).toBeVisible();
});

// (A panic while hydrating fails it: see support/test.ts.)
test("a settings page opened directly loads its part while hydrating, and works", async ({ page }) => {
  await signUp(page, unique("direct"), "Dora");
  await createWorkspace(page, "Direct");
  await page.goto(page.url().replace(/\/c\/.*$/, "/settings"));
  await expectLive(page);
  const form = page.getByRole("form", { name: "Create a role" });
  if (!(await form.isVisible())) await page.getByText("+ New role").click();
  await form.getByLabel("Name", { exact: true }).fill("Direct role");
  await form.getByRole("button", { name: "Create role" }).click();
  await expect(page.locator('li.role[data-role="Direct role"]')).toBeVisible();
});

// The service worker fetches pages itself; a browser without it (or before
// it is installed) keeps pages in its HTTP cache and revalidates them.
test.describe("without the service worker", () => {
  test.use({ serviceWorkers: "block" });

  test("a page reloaded unchanged is answered 304 and the kept page still hydrates", async ({ page }) => {
    await signUp(page, unique("etag"), "Eta");
    await createWorkspace(page, "Revalidated");
    await expectLive(page);
    // Chromium reports a revalidated page as its cached 200; the status that
    // crossed the network is in the protocol's raw response.
    // (The first rendering came before the person was online; the page now
    // shows them online.)
    await page.reload();
    await expectLive(page);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    const pages: number[] = [];
    cdp.on("Network.responseReceivedExtraInfo", (e) => {
      if (/^etag:/im.test(e.headersText ?? "")) pages.push(e.statusCode);
    });
    await page.reload();
    // The kept page runs its scripts under the policy (and nonce) it came with.
    await expectLive(page);
    expect(pages).toEqual([304]);
  });
});
