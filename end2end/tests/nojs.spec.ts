// With JavaScript disabled: plain forms that post and redirect back.
import { expect, test } from "./support/test";
import { createChannel, createWorkspace, signIn, signUp, unique } from "./support/actions";
import { changePassword, revokeInvite } from "./support/access";
import { expectMessage, expectOrder } from "./support/checks";
import { Receiver } from "./support/receiver";

test("reading and posting work without JavaScript", async ({ browser }) => {
  const ana = unique("nana");
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();

  await signUp(page, ana, "Nana");
  await expect(page.getByRole("heading", { name: "Your workspaces" })).toBeVisible();
  await createWorkspace(page, "No Script Club");
  const box = page.getByRole("textbox", { name: /^Message #/ });
  await box.fill("Posted by a plain form");
  await page.getByRole("button", { name: "Send" }).click();
  await expectMessage(page, "Nana", "Posted by a plain form");

  // Errors come back to the form too.
  await page.getByRole("textbox", { name: /^Message #/ }).fill("   ");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByRole("alert")).toContainText("Write something before sending.");

  // Signing out and in again lands back in the workspace list, and the message is still there.
  const channelUrl = page.url().split("?")[0];
  await page.getByRole("button", { name: "Sign out" }).first().click();
  await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
  await signIn(page, ana);
  await expect(page.getByRole("link", { name: /No Script Club/ })).toBeVisible();
  await page.goto(channelUrl);
  await expectMessage(page, "Nana", "Posted by a plain form");
  await context.close();
});

test("a wrong password is explained without JavaScript", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Username").fill("nobody-here");
  await page.getByLabel("Password").fill("whatever123");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("username and password do not match");
});

test("reacting and editing work without JavaScript", async ({ page }) => {
  await signUp(page, unique("nora"), "Nora");
  await createWorkspace(page, "Plain Forms");
  await page.getByRole("textbox", { name: /^Message #/ }).fill("plain *form*");
  await page.getByRole("button", { name: "Send" }).click();
  const item = page.getByRole("log").getByRole("listitem").filter({ hasText: "plain form" });
  await expect(item.locator("em")).toHaveText("form");
  await item.hover();
  await item.getByRole("button", { name: "React with 🎉" }).click();
  await expect(item.getByRole("button", { name: /🎉 1 — Nora/ })).toHaveAttribute("aria-pressed", "true");
  await item.getByRole("button", { name: /🎉 1 — Nora/ }).click();
  await expect(item.getByRole("button", { name: /🎉 1 — Nora/ })).toHaveCount(0);
  await item.hover();
  await item.getByText("Edit", { exact: true }).click();
  await item.getByLabel("New text").fill("plain **edited**");
  await item.getByRole("button", { name: "Save" }).click();
  const edited = page.getByRole("log").getByRole("listitem").filter({ hasText: "plain edited" });
  await expect(edited.locator("strong")).toHaveText("edited");
  await expect(edited).toContainText("(edited)");
});

test("deleting a message works without JavaScript", async ({ page }) => {
  await signUp(page, unique("dana"), "Dana");
  await createWorkspace(page, "Plain Deletes");
  await page.getByRole("textbox", { name: /^Message #/ }).fill("gone soon");
  await page.getByRole("button", { name: "Send" }).click();
  const item = page.getByRole("log").getByRole("listitem").filter({ hasText: "gone soon" });
  await item.hover();
  await item.getByRole("button", { name: "Delete message" }).click();
  await expect(page.getByRole("log").getByText("gone soon")).toHaveCount(0);
});

test("threads and pins work without JavaScript", async ({ page }) => {
  await signUp(page, unique("nell"), "Nell");
  await createWorkspace(page, "Plain Threads");
  await page.getByRole("textbox", { name: "Message #general" }).fill("Agenda for Monday");
  await page.getByRole("button", { name: "Send" }).click();
  const main = page.getByRole("log", { name: "Messages in #general" });
  const item = main.getByRole("listitem").filter({ hasText: "Agenda for Monday" });
  await item.hover();
  await item.getByRole("link", { name: "Reply in thread" }).click();
  const thread = page.getByRole("region", { name: "Thread" });
  await thread.getByRole("textbox", { name: "Message thread" }).fill("1. budget");
  await thread.getByRole("button", { name: "Send" }).click();
  await expect(page.getByRole("region", { name: "Thread" }).getByRole("log", { name: "Messages in thread replies" })).toContainText(
    "1. budget",
  );
  await expect(main.getByRole("link", { name: /1 reply/ })).toBeVisible();
  await expect(main).not.toContainText("1. budget");

  await item.hover();
  await item.getByRole("button", { name: "Pin" }).click();
  await expect(page.getByText("📌 1 pinned")).toBeVisible();
});

test("workspace settings work without JavaScript: a role, the order of roles and channels, a channel's type", async ({ page }) => {
  await signUp(page, unique("nell"), "Nell");
  await createWorkspace(page, "Plain Settings");
  await createChannel(page, "beta");
  await page.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Workspace settings" })).toBeVisible();

  await page.getByText("+ New role").click();
  const form = page.getByRole("form", { name: "Create a role" });
  await form.getByLabel("Name", { exact: true }).fill("Helpers");
  await form.getByRole("button", { name: "Create role" }).click();
  const roles = page.locator("li.role");
  await expectOrder(roles, "data-role", ["Owner", "Admin", "Moderator", "Helpers", "Member", "Guest"]);

  // The ↑ and ↓ buttons do what dragging does.
  await page.getByRole("button", { name: "Move Helpers up" }).click();
  await expectOrder(roles, "data-role", ["Owner", "Admin", "Helpers", "Moderator", "Member", "Guest"]);
  const channels = page.locator("li.channel-settings");
  await expectOrder(channels, "data-channel", ["general", "beta"]);
  await page.getByRole("button", { name: "Move beta up" }).click();
  await expectOrder(channels, "data-channel", ["beta", "general"]);

  // A channel becomes an announcement channel; the audit log says so.
  const beta = page.locator('li.channel-settings[data-channel="beta"]');
  await beta.getByText("Settings", { exact: true }).click();
  const settings = page.getByRole("form", { name: "Settings of beta" });
  await settings.getByLabel("Type").selectOption("announcement");
  await settings.getByRole("button", { name: "Save channel" }).click();
  await expect(page.locator('li.channel-settings[data-channel="beta"]')).toContainText("announcement");
  await expect(page.locator("tr.audit-entry", { hasText: "type announcement" })).toBeVisible();
});

test("notification settings save without JavaScript", async ({ page }) => {
  await signUp(page, unique("nora"), "Nora");
  await createWorkspace(page, "Plain Prefs");
  await page.getByRole("link", { name: "Notification settings" }).click();
  await page.getByRole("checkbox", { name: "Mentions of you: Email" }).uncheck();
  await page.getByRole("checkbox", { name: "Meeting reminders: Push" }).uncheck();
  await page.getByLabel("Time zone").fill("America/Chicago");
  await page.getByRole("button", { name: "Save" }).click();
  // The form posts and comes back to the page, which shows what was stored.
  await expect(page.getByRole("heading", { level: 1, name: "Notification settings" })).toBeVisible();
  await expect(page.getByLabel("Time zone")).toHaveValue("America/Chicago");
  await expect(page.getByRole("checkbox", { name: "Mentions of you: Email" })).not.toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Meeting reminders: Push" })).not.toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Direct messages: Email" })).toBeChecked();
});

test("an incoming webhook is made, posts and is removed without JavaScript", async ({ page, request }) => {
  await signUp(page, unique("nell"), "Nell");
  await createWorkspace(page, "Plain Hooks");
  const channel = page.url();
  await page.getByRole("link", { name: "Integrations" }).click();
  const form = page.getByRole("form", { name: "Add an incoming webhook" });
  await form.getByLabel("Name (its posts show it)").fill("Nightly");
  await form.getByRole("checkbox").check();
  await form.getByRole("button", { name: "Add webhook" }).click();
  // The page the form comes back to shows the address and secret, this once.
  const url = await page.getByRole("textbox", { name: "Address" }).inputValue();
  expect(url).toMatch(/\/hooks\/wh_/);
  await expect(page.getByRole("textbox", { name: "Signing secret" })).toHaveValue(/^whsec_/);
  await page.reload();
  await expect(page.getByRole("textbox", { name: "Address" })).toHaveCount(0);
  await expect(page.locator("tr.webhook-row", { hasText: "Nightly" })).toContainText("yes");

  // Unsigned calls are refused by a webhook that asks for signatures.
  expect((await request.post(url, { data: { text: "unsigned" } })).status()).toBe(401);
  await page.locator("tr.webhook-row", { hasText: "Nightly" }).getByText("Remove…").click();
  await page.getByRole("button", { name: "Remove the webhook Nightly" }).click();
  await expect(page.locator("tr.webhook-row")).toHaveCount(0);
  await page.goto(channel);
  await expect(page.getByRole("log")).not.toContainText("unsigned");
});

test("an outgoing webhook is made, calls, and is sent again without JavaScript", async ({ page }) => {
  const receiver = await Receiver.start("{}");
  await signUp(page, unique("olga"), "Olga");
  await createWorkspace(page, "Plain Outgoing");
  const channel = page.url();
  await page.getByRole("link", { name: "Integrations" }).click();
  const form = page.getByRole("form", { name: "Add an outgoing webhook" });
  await form.getByLabel("Name (its answers show it)").fill("Mirror");
  await form.getByLabel("URL to call").fill(receiver.url("/mirror"));
  await form.getByRole("checkbox", { name: "Reactions" }).check();
  await form.getByLabel("Send as").selectOption("form");
  await form.getByRole("button", { name: "Add outgoing webhook" }).click();
  await expect(page.getByRole("textbox", { name: "Signing secret" })).toHaveValue(/^owsec_/);
  await page.reload();
  await expect(page.getByRole("textbox", { name: "Signing secret" })).toHaveCount(0);
  await expect(page.locator("tr.outgoing-row", { hasText: "Mirror" })).toContainText("Messages, Reactions");

  await page.goto(channel);
  await page.getByRole("textbox", { name: /^Message #/ }).fill("plain hello");
  await page.getByRole("button", { name: "Send" }).click();
  const call = await receiver.next();
  expect(new URLSearchParams(call.body).get("text")).toBe("plain hello");

  await page.getByRole("link", { name: "Integrations" }).click();
  await page.getByRole("link", { name: "Calls of Mirror" }).click();
  await expect(page.locator("li.webhook-call")).toHaveCount(1);
  await page.getByRole("button", { name: "Send the messages call again" }).click();
  expect((await receiver.next()).body).toBe(call.body);
  await expect(page.locator("li.webhook-call")).toHaveCount(2);
  await receiver.close();
});

test("slash commands work without JavaScript: one posts, another's reply shows once", async ({ page }) => {
  await signUp(page, unique("sara"), "Sara");
  await createWorkspace(page, "Plain Commands");
  const box = () => page.getByRole("textbox", { name: /^Message #/ });
  await box().fill("/me waves");
  await page.getByRole("button", { name: "Send" }).click();
  const item = page.getByRole("log").getByRole("listitem").filter({ hasText: "waves" });
  await expect(item.locator("em")).toHaveText("waves");
  await box().fill("/topic Plain talk");
  await page.getByRole("button", { name: "Send" }).click();
  const reply = page.getByRole("status").filter({ hasText: "Only visible to you" });
  await expect(reply).toContainText("The topic of #general is now: Plain talk");
  await page.reload();
  await expect(page.getByText("Only visible to you")).toHaveCount(0);
  await box().fill("/nosuch");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByRole("alert")).toContainText("There is no /nosuch command here");
});

test("changing the password works without JavaScript", async ({ page }) => {
  await changePassword(page);
});

test("revoking an invite link works without JavaScript", async ({ page }) => {
  await revokeInvite(page);
});

test("on a phone without JavaScript the channel list opens from its link and closes again", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await signUp(page, unique("phone"), "Pho");
  await createWorkspace(page, "Pocket");
  const channels = page.getByRole("list", { name: "Channels" });
  await expect(channels).toBeHidden();
  await expect(page.getByRole("textbox", { name: /^Message #/ })).toBeVisible();
  await page.getByRole("link", { name: "Channels and views" }).click();
  await expect(channels).toBeVisible();
  await page.getByRole("link", { name: "Close the channel list" }).click();
  await expect(channels).toBeHidden();
  await context.close();
});

test("legal holds and compliance archiving are set without JavaScript", async ({ page }) => {
  // PARLEY_ADMINS names "nokeeper" (playwright.config.ts). The deployment's
  // retention is left to compliance.spec.ts, which may run at the same time.
  await signUp(page, "nokeeper", "No-script Keeper");
  await expect(page.getByRole("heading", { name: "Your workspaces" })).toBeVisible();
  await page.getByRole("link", { name: "Administration" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Audit 2026");
  await page.getByLabel("Reason").fill("Regulator's request");
  await page.getByLabel("People (usernames)").fill("nokeeper");
  await page.getByRole("button", { name: "Put on hold" }).click();
  await expect(page.locator("li.hold", { hasText: "Audit 2026" })).toContainText("@nokeeper");
  await page.getByRole("button", { name: "Turn archiving on" }).click();
  await expect(page.locator("#archive-status")).toContainText("On: every edit keeps the text before it");
});

test("a compliance export is asked for, followed and deleted without JavaScript", async ({ page }) => {
  // PARLEY_ADMINS names "noexporter" (playwright.config.ts).
  await signUp(page, "noexporter", "No-script Exporter");
  await createWorkspace(page, "Plain Records");
  await page.getByRole("textbox", { name: /^Message #/ }).fill("kept for the export");
  await page.getByRole("button", { name: "Send" }).click();
  await page.goto("/admin");
  const exports = page.getByRole("region", { name: "Compliance exports" });
  await exports.getByLabel("Format").selectOption("eml");
  await exports.getByLabel("Workspace", { exact: true }).selectOption({ label: "Plain Records" });
  await exports.getByRole("button", { name: "Export", exact: true }).click();
  const item = exports.locator("li.export", { hasText: "EML" });
  // Without JavaScript the page shows progress when reloaded (its Refresh link).
  await expect(async () => {
    await page.getByRole("link", { name: "Refresh" }).click();
    await expect(item).toContainText("Ready: 1 message, 0 files", { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(item.getByRole("link", { name: "Download" })).toHaveAttribute("href", /^\/api\/admin\/exports\/\d+\/archive$/);

  await exports.getByRole("combobox", { name: "Daily export" }).selectOption("json");
  await exports.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#daily-export-status")).toContainText("exported as JSON");
  await exports.getByRole("combobox", { name: "Daily export" }).selectOption("off");
  await exports.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#daily-export-status")).toHaveText("The daily export is off.");

  await item.getByText("Delete…").click();
  await item.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(item).toHaveCount(0);
});
