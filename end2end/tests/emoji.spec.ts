// Emoji as people use them: drawn by the font Parley ships, chosen from a
// picker with search and recently used, completed from :shortcodes:.
import { expect, test } from "./support/test";
import { send, twoPeople } from "./support/actions";
import { expectMessage } from "./support/checks";

test("emoji are drawn by the font Parley serves, kept by the browser for good", async ({ browser }) => {
  const { a, close } = await twoPeople(browser, "Fonts");
  const fonts: Record<string, string>[] = [];
  a.on("response", (res) => {
    if (/\/pkg\/emoji-\d+\.[0-9a-f]{16}\.woff2$/.test(new URL(res.url()).pathname)) fonts.push(res.headers());
  });
  await send(a, "Ship it 🚀");
  await expectMessage(a, "Ana", "Ship it 🚀");
  const faces = await a.evaluate(async () => (await document.fonts.load('16px "Parley Emoji"', "🚀")).length);
  expect(faces).toBeGreaterThan(0);
  expect(fonts.length).toBeGreaterThan(0);
  expect(fonts[0]["cache-control"]).toBe("public, max-age=31536000, immutable");
  // Digits stay in the text font.
  const digits = await a.evaluate(async () => (await document.fonts.load('16px "Parley Emoji"', "2026")).length);
  expect(digits).toBe(0);
  await close();
});

test("the emoji picker finds an emoji by name, reacts with it, and keeps it as recently used", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Pickers");
  await send(a, "Pick one");
  const onB = b.getByRole("log").getByRole("listitem").filter({ hasText: "Pick one" });
  await expect(onB).toBeVisible({ timeout: 2_000 });
  await onB.hover();
  await onB.getByRole("button", { name: "Add a reaction" }).click();
  const picker = b.getByRole("dialog", { name: "Add a reaction" });
  await expect(picker.getByRole("searchbox", { name: "Search emoji" })).toBeFocused();
  await picker.getByRole("searchbox", { name: "Search emoji" }).fill("party");
  await picker.getByRole("button", { name: "party popper" }).click();
  await expect(picker).toHaveCount(0);
  const onA = a.getByRole("log").getByRole("listitem").filter({ hasText: "Pick one" });
  await expect(onA.getByRole("button", { name: /🎉 1 — Bob/ })).toBeVisible({ timeout: 2_000 });

  // Opened again, it offers the party popper first, among the recently used.
  await onB.hover();
  await onB.getByRole("button", { name: "Add a reaction" }).click();
  const recent = picker.getByRole("region", { name: "Recently used" });
  await expect(recent.getByRole("button").first()).toHaveAccessibleName("party popper");
  await b.keyboard.press("Escape");
  await expect(picker).toHaveCount(0);
  await close();
});

test("typing a :shortcode offers the emoji, and Enter puts it in the message", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Shortcodes");
  const box = a.getByRole("textbox", { name: "Message #general" });
  await box.pressSequentially("Looks good :thumbsu");
  const offered = a.getByRole("listbox", { name: "Emoji" });
  await expect(offered.getByRole("option").first()).toContainText(":thumbsup:");
  await box.press("Enter");
  await expect(offered).toHaveCount(0);
  await expect(box).toHaveValue(/^Looks good 👍\uFE0F? $/);
  await box.press("Enter");
  await expectMessage(b, "Ana", "Looks good 👍", 2_000);

  // The composer's button inserts one too.
  await a.getByRole("button", { name: "Add an emoji" }).click();
  const picker = a.getByRole("dialog", { name: "Add an emoji" });
  await picker.getByRole("searchbox", { name: "Search emoji" }).fill("rocket");
  await picker.getByRole("button", { name: "rocket" }).click();
  await expect(box).toHaveValue("🚀 ");
  await expect(box).toBeFocused();
  await close();
});
