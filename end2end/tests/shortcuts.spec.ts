// The keyboard habits of Slack and Discord: a quick switcher, moving
// between channels, editing the last message, marking read, search and
// the list of shortcuts.
import { type Page } from "@playwright/test";
import { expect, test } from "./support/test";
import { createChannel, send, twoPeople } from "./support/actions";
import { expectMessage } from "./support/checks";

function channelHeading(page: Page, name: string) {
  return page.getByRole("heading", { level: 1, name });
}

test("Ctrl+K jumps to a channel by part of its name, and to a person's conversation", async ({ browser }) => {
  const { a, close } = await twoPeople(browser, "Switchers");
  await createChannel(a, "design-review");
  await a.keyboard.press("Control+k");
  const jump = a.getByRole("combobox", { name: /Jump to a channel/ });
  await expect(jump).toBeFocused();
  await jump.fill("gen");
  const options = a.getByRole("listbox", { name: "Destinations" }).getByRole("option");
  await expect(options.first()).toContainText("general");
  await jump.press("Enter");
  await expect(channelHeading(a, "general")).toBeVisible();
  await expect(jump).toHaveCount(0);

  // A word inside the name finds it too; ↓ and Enter choose.
  await a.keyboard.press("Control+k");
  await jump.fill("review");
  await expect(options).toHaveText([/design-review/]);
  await jump.press("Enter");
  await expect(channelHeading(a, "design-review")).toBeVisible();

  // A person with no conversation yet: choosing them starts one.
  await a.keyboard.press("Control+k");
  await jump.fill("bob");
  const bob = options.filter({ hasText: "Bob" });
  await expect(bob).toContainText("@bob");
  await jump.press("Enter");
  await expect(channelHeading(a, "Bob")).toBeVisible();
  await close();
});

test("Esc closes the quick switcher without going anywhere", async ({ browser }) => {
  const { a, close } = await twoPeople(browser, "Closers");
  await a.keyboard.press("Control+k");
  const jump = a.getByRole("combobox", { name: /Jump to a channel/ });
  await jump.fill("nothing-is-called-this");
  await expect(a.getByText("Nothing matches.")).toBeVisible();
  await jump.press("Escape");
  await expect(jump).toHaveCount(0);
  await expect(channelHeading(a, "general")).toBeVisible();
  await close();
});

test("Alt+↓ and Alt+↑ move through the sidebar's channels in its order", async ({ browser }) => {
  const { a, close } = await twoPeople(browser, "Movers");
  await createChannel(a, "alpha");
  await createChannel(a, "beta");
  const names = await a.getByRole("list", { name: "Channels" }).locator(".channel-name").allTextContents();
  expect(names).toEqual(["general", "alpha", "beta"]);
  await a.keyboard.press("Alt+ArrowUp");
  await expect(channelHeading(a, "alpha")).toBeVisible();
  await a.keyboard.press("Alt+ArrowDown");
  await expect(channelHeading(a, "beta")).toBeVisible();
  // From the last one, down goes round to the first.
  await a.keyboard.press("Alt+ArrowDown");
  await expect(channelHeading(a, "general")).toBeVisible();
  await close();
});

test("Alt+Shift+↓ skips to the next channel with unread messages", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Skippers");
  await createChannel(a, "alpha");
  await createChannel(a, "beta");
  await a.getByRole("link", { name: /^alpha/ }).click();
  await expect(channelHeading(a, "alpha")).toBeVisible();
  await send(b, "news in general");
  await expect(a.getByRole("link", { name: "general, unread messages" })).toBeVisible({ timeout: 2_000 });
  await a.keyboard.press("Alt+Shift+ArrowDown");
  await expect(channelHeading(a, "general")).toBeVisible();
  await expectMessage(a, "Bob", "news in general");
  await close();
});

test("↑ in an empty message box opens one's last message for editing", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Editors");
  await send(a, "First draft");
  await send(b, "Someone else's words");
  await expectMessage(a, "Bob", "Someone else's words", 2_000);
  const box = a.getByRole("textbox", { name: "Message #general" });
  await box.press("ArrowUp");
  const mine = a.getByRole("log").getByRole("listitem").filter({ hasText: "First draft" });
  const edit = mine.getByLabel("New text");
  await expect(edit).toBeFocused();
  await expect(edit).toHaveValue("First draft");
  await edit.fill("Final text");
  await mine.getByRole("button", { name: "Save" }).click();
  const edited = b.getByRole("log").getByRole("listitem").filter({ hasText: "Final text" });
  await expect(edited).toContainText("(edited)", { timeout: 2_000 });

  // With text in the box, ↑ moves in the text as usual.
  await box.fill("line one");
  await box.press("ArrowUp");
  await expect(box).toBeFocused();
  await close();
});

test("Esc marks the channel read and takes away the new-messages line", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Readers");
  await createChannel(a, "elsewhere");
  await send(b, "while you were away");
  await expect(a.getByRole("link", { name: "general, unread messages" })).toBeVisible({ timeout: 2_000 });
  await a.getByRole("link", { name: /^general/ }).click();
  const line = a.getByRole("separator", { name: "New messages" });
  await expect(line).toBeVisible();
  await a.keyboard.press("Escape");
  await expect(line).toBeHidden();
  await close();
});

test("Ctrl+F focuses search and ? lists the shortcuts, but is text in the message box", async ({ browser }) => {
  const { a, close } = await twoPeople(browser, "Finders");
  await a.keyboard.press("Control+f");
  await expect(a.getByRole("searchbox", { name: "Search messages" })).toBeFocused();

  const box = a.getByRole("textbox", { name: "Message #general" });
  await box.fill("");
  await box.press("Shift+?");
  await expect(box).toHaveValue("?");
  await expect(a.getByRole("dialog", { name: "Keyboard shortcuts" })).toHaveCount(0);

  await box.fill("");
  await box.blur();
  await a.keyboard.press("Shift+?");
  const help = a.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(help).toContainText("Jump to a channel, conversation or person");
  await expect(help.getByRole("button", { name: "Close" })).toBeFocused();
  await a.keyboard.press("Escape");
  await expect(help).toHaveCount(0);
  // The sidebar's button opens the same list.
  await a.getByRole("button", { name: "Keyboard shortcuts" }).click();
  await expect(help).toBeVisible();
  await help.getByRole("button", { name: "Close" }).click();
  await expect(help).toHaveCount(0);
  await close();
});
