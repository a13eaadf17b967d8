// The workspace settings as an admin uses them: destructive actions ask
// first, and the page reads well on a phone.
import { expect, test } from "./support/test";
import { twoPeople } from "./support/actions";

test("kicking a member asks first, says what it does, and then removes them", async ({ browser }) => {
  const { a, close } = await twoPeople(browser, "Kickers");
  await a.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(a.getByRole("heading", { level: 1, name: "Workspace settings" })).toBeVisible();
  const bobRow = a.locator("li.member-setting", { hasText: "Bob" });
  // Nothing is done by the first click: it opens what kicking means.
  const kick = bobRow.getByRole("button", { name: "Kick Bob" });
  await expect(kick).toBeHidden();
  await bobRow.getByText("Kick…").click();
  await expect(bobRow.getByText("Bob leaves the workspace at once; an invite brings them back.")).toBeVisible();
  await kick.click();
  await expect(a.locator("li.member-setting", { hasText: "Bob" })).toHaveCount(0);
  await expect(a.locator("tr.audit-entry", { hasText: "member.kick" })).toBeVisible();
  await close();
});

test("on a phone the sidebar folds away and opens over the page", async ({ browser }) => {
  const { a, close } = await twoPeople(browser, "Phones");
  await a.setViewportSize({ width: 390, height: 844 });
  const channels = a.getByRole("list", { name: "Channels" });
  await expect(channels).toBeHidden();
  await expect(a.getByRole("textbox", { name: "Message #general" })).toBeVisible();
  await a.getByRole("link", { name: "Channels and views" }).click();
  await expect(channels).toBeVisible();
  await a.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(a.getByRole("heading", { level: 1, name: "Workspace settings" })).toBeVisible();
  await expect(channels).toBeHidden();
  // The settings fit the screen: nothing scrolls sideways.
  const overflow = await a.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await a.getByRole("link", { name: "Channels and views" }).click();
  await a.getByRole("link", { name: "Close the channel list" }).click();
  await expect(channels).toBeHidden();
  await close();
});

test("leaving a workspace asks first and then leaves it", async ({ browser }) => {
  const { b, close } = await twoPeople(browser, "Leavers");
  const leave = b.getByRole("button", { name: "Leave Leavers" });
  await expect(leave).toBeHidden();
  await b.getByText("Leave workspace…").click();
  await expect(b.getByText("You leave Leavers and its channels; an invite brings you back.")).toBeVisible();
  await leave.click();
  await expect(b).toHaveURL(/\/$/);
  await expect(b.getByRole("link", { name: "Leavers" })).toHaveCount(0);
  await close();
});

test("signing out everywhere asks first and then signs this browser out too", async ({ browser }) => {
  const { a, close } = await twoPeople(browser, "Everywhere");
  await a.getByRole("link", { name: "Account" }).click();
  const everywhere = a.getByRole("button", { name: "Sign out on every device" });
  await expect(everywhere).toBeHidden();
  await a.getByText("Sign out everywhere…").click();
  await expect(a.getByText(/this one included, signs out, and every API token stops working/)).toBeVisible();
  await everywhere.click();
  await expect(a).toHaveURL(/\/login$/);
  await close();
});
