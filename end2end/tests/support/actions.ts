// What a person does in Parley, step by step, through labels and button names.
import { expect, type Browser, type Page } from "@playwright/test";

/** A unique name per run, so tests never collide on usernames. */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

export async function signUp(page: Page, username: string, displayName: string, path = "/signup") {
  if (path) await page.goto(path);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name").fill(displayName);
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
}

export async function signIn(page: Page, username: string) {
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  // Signed in once the answer has taken the page elsewhere (with its session cookie).
  await page.waitForURL((url) => url.pathname !== "/login");
}

export async function createWorkspace(page: Page, name: string, opts: { private?: boolean } = {}) {
  await page.getByLabel("Workspace name").fill(name);
  if (opts.private) await page.getByLabel(/Private: people join only by invite link/).check();
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
}

export async function createChannel(
  page: Page,
  name: string,
  opts: { private?: boolean; sensitive?: boolean; kind?: "text" | "voice" | "announcement" } = {},
) {
  // The form may still be open from the channel made before.
  const field = page.getByLabel("Channel name");
  if (!(await field.isVisible())) await page.getByText("+ New channel").click();
  await field.fill(name);
  if (opts.private) await page.getByLabel(/Private: only people added/).check();
  if (opts.sensitive) await page.getByLabel(/Sensitive: kept out of search/).check();
  if (opts.kind) await page.getByRole("form", { name: "Create a channel" }).getByLabel("Type").selectOption(opts.kind);
  await page.getByRole("button", { name: "Create channel" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
}

/** Makes an invite link from the current channel and returns it. */
export async function inviteLink(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Invite people" }).click();
  const link = page.getByLabel(/Invite link to/);
  await expect(link).toBeVisible();
  return await link.inputValue();
}

/** Types a message and sends it with Enter. */
export async function send(page: Page, text: string) {
  const box = page.getByRole("textbox", { name: /^Message #/ });
  await box.fill(text);
  await box.press("Enter");
}

/** Ana makes a workspace and Bob joins it through an invite link; both pages are live in #general. */
export async function twoPeople(browser: Browser, workspace: string) {
  const anaContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const a = await anaContext.newPage();
  const b = await bobContext.newPage();
  const ana = unique("ana");
  const bob = unique("bob");
  await signUp(a, ana, "Ana");
  await createWorkspace(a, workspace);
  const link = await inviteLink(a);
  await b.goto(link);
  await b.getByRole("link", { name: "Create an account to join" }).click();
  await signUp(b, bob, "Bob", "");
  await b.getByRole("button", { name: "Join as Bob" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await expect(a.locator("html")).toHaveAttribute("data-live", "connected", { timeout: 10_000 });
  await expect(b.locator("html")).toHaveAttribute("data-live", "connected", { timeout: 10_000 });
  const close = async () => {
    await anaContext.close();
    await bobContext.close();
  };
  return { a, b, ana, bob, close };
}

/** The smallest valid PNG: one transparent pixel. */
export const PIXEL = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
