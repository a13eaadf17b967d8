// The notification settings page as a person uses it: choose where each type
// goes, set quiet hours in their time zone, save, and find it all as they
// left it after a reload; a channel's own level from its header.
import { expect, test } from "./support/test";
import { createWorkspace, signUp, unique } from "./support/actions";

test("preferences save and are there after a reload", async ({ page }) => {
  await signUp(page, unique("pref"), "Priya");
  await createWorkspace(page, "Prefs");
  await page.getByRole("link", { name: "Notification settings" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Notification settings" })).toBeVisible();
  // Hydrated: the page names the browser's own time zone.
  await expect(page.getByText("This browser is in")).toBeVisible();

  const reactionsByEmail = page.getByRole("checkbox", { name: "Reactions to your messages: Email" });
  const mentionsByEmail = page.getByRole("checkbox", { name: "Mentions of you: Email" });
  await expect(mentionsByEmail).toBeChecked();
  await expect(reactionsByEmail).not.toBeChecked();
  // SMS is not set up on this server: the column says so and cannot be switched.
  await expect(page.getByRole("checkbox", { name: "Mentions of you: SMS" })).toBeDisabled();
  await expect(page.locator("#sms-note")).toContainText("SMS is not available on this server");

  await mentionsByEmail.uncheck();
  await reactionsByEmail.check();
  await page.getByLabel(/Hold email, push and SMS during quiet hours/).check();
  await page.getByLabel("From", { exact: true }).fill("21:30");
  await page.getByLabel("to", { exact: true }).fill("06:45");
  await page.getByLabel("Sat", { exact: true }).uncheck();
  await page.getByLabel("Time zone").fill("Mars/Olympus");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#time-zone-error")).toContainText("is not a time zone");

  await page.getByLabel("Time zone").fill("Europe/Berlin");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();

  await page.reload();
  await expect(page.getByRole("checkbox", { name: "Mentions of you: Email" })).not.toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Reactions to your messages: Email" })).toBeChecked();
  await expect(page.getByLabel(/Hold email, push and SMS during quiet hours/)).toBeChecked();
  await expect(page.getByLabel("From", { exact: true })).toHaveValue("21:30");
  await expect(page.getByLabel("to", { exact: true })).toHaveValue("06:45");
  await expect(page.getByLabel("Sat", { exact: true })).not.toBeChecked();
  await expect(page.getByLabel("Sun", { exact: true })).toBeChecked();
  await expect(page.getByLabel("Time zone")).toHaveValue("Europe/Berlin");
});

test("a channel muted from its header is dimmed in the sidebar and listed in settings", async ({ page }) => {
  await signUp(page, unique("mute"), "Milo");
  await createWorkspace(page, "Muting");
  await expect(page.locator("html")).toHaveAttribute("data-live", "connected", { timeout: 10_000 });
  await page.locator("details.notify-level > summary").click();
  await page.getByLabel("Notify me about").selectOption("muted");
  await page.getByRole("button", { name: "Set", exact: true }).click();
  await expect(page.locator("details.notify-level > summary")).toHaveText("🔔 Muted");
  await expect(page.getByRole("link", { name: "general, muted" })).toBeVisible();
  await page.getByRole("link", { name: "Notification settings" }).click();
  const listed = page.getByRole("list").filter({ has: page.getByRole("link", { name: "#general" }) });
  await expect(listed.getByLabel("Notify me about")).toHaveValue("muted");
});

test("turning push on says what went wrong when the browser cannot", async ({ browser }) => {
  // Headless Chromium has no push service: the browser refuses, and the page says so and what to do.
  const context = await browser.newContext();
  await context.grantPermissions(["notifications"]);
  const page = await context.newPage();
  await signUp(page, unique("push"), "Pim");
  await createWorkspace(page, "Pushless");
  await page.getByRole("link", { name: "Notification settings" }).click();
  await expect(page.getByText("This browser is in")).toBeVisible();
  await page.getByRole("button", { name: "Turn on push in this browser" }).click();
  const status = page.locator("section[aria-labelledby=push-heading] [role=status]");
  await expect(status).toContainText("This browser could not turn push on");
  await expect(status).toContainText("Check that notifications are allowed for this site");
  await expect(page.getByRole("list", { name: "Browsers with push on" })).toHaveCount(0);
  await context.close();
});
