// The accessibility audit (axe-core) of every page, as a person with a
// workspace, a thread and a meeting sees them, and as a visitor signed out.
import AxeBuilder from "@axe-core/playwright";
import { expect, type Browser, type Page } from "@playwright/test";
import { createWorkspace, inviteLink, signUp, unique } from "./actions";

export type Scheme = "light" | "dark";

/** The serious and critical violations on the page as it is now, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
}

/** Opens `url` and waits until it is ready to be read: hydrated when JavaScript runs. */
async function open(page: Page, url: string, javaScript: boolean) {
  await page.goto(url);
  if (javaScript) await expect(page.locator("html")).toHaveAttribute("data-hydrated", "", { timeout: 10_000 });
}

/**
 * Audits every page in `scheme` and returns the violations by page
 * (an empty object when there are none).
 */
export async function auditEveryPage(browser: Browser, scheme: Scheme, javaScript: boolean) {
  // Without JavaScript: the app's scripts are not loaded, so the pages stay
  // as the server rendered them and their forms post as plain forms (the
  // audit itself runs as a script, which a page with scripts off refuses).
  const context = await browser.newContext({ colorScheme: scheme, javaScriptEnabled: true });
  if (!javaScript) await context.route(/\/pkg\/[^/]*\.(js|wasm)$/, (route) => route.abort());
  const page = await context.newPage();
  const found: Record<string, string[]> = {};
  const audit = async (name: string, url: string) => {
    await open(page, url, javaScript);
    const violations = await seriousViolations(page);
    if (violations.length) found[name] = violations;
  };

  // Signed out.
  await audit("sign in", "/login");
  await audit("sign up", "/signup");
  await audit("forgotten password", "/forgot-password");
  await audit("not found", "/no-such-page");

  // A person with a workspace, a message with a thread, and an invite.
  await signUp(page, unique("audit"), "Audrey");
  await createWorkspace(page, "Audited");
  const channel = page.url().split("?")[0];
  const workspace = channel.replace(/\/c\/.*$/, "");
  const invite = await inviteLink(page);
  if (javaScript) await expect(page.locator("html")).toHaveAttribute("data-live", "connected", { timeout: 10_000 });
  await page.getByRole("textbox", { name: /^Message #/ }).fill("Is everything readable?");
  await page.getByRole("button", { name: "Send" }).click();
  const message = page.getByRole("log").getByRole("listitem").filter({ hasText: "Is everything readable?" });
  await expect(message).toBeVisible();
  const id = (await message.getAttribute("data-id")) ?? "";

  await audit("workspaces", "/");
  await audit("channel", channel);
  await audit("channel with a thread open", `${channel}?thread=${id}`);
  await audit("search", `${workspace}/search?q=readable`);
  await audit("threads", `${workspace}/threads`);
  await audit("meetings", `${workspace}/meetings`);
  await audit("workspace settings", `${workspace}/settings`);
  await audit("integrations", `${workspace}/integrations`);
  const outgoing = page.getByRole("form", { name: "Add an outgoing webhook" });
  await outgoing.getByLabel("Name (its answers show it)").fill("Audit hook");
  await outgoing.getByLabel("URL to call").fill("http://127.0.0.1:9/audit");
  await outgoing.getByRole("button", { name: "Add outgoing webhook" }).click();
  await expect(page.getByRole("textbox", { name: "Signing secret" })).toBeVisible();
  const calls = await page.getByRole("link", { name: "Calls of Audit hook" }).getAttribute("href");
  await audit("an outgoing webhook's calls", calls ?? "");
  await audit("notification settings", "/settings/notifications");
  await audit("account", "/account");
  await audit("invite", invite);
  await context.close();
  return found;
}
