// In-app notifications as people meet them: Ana mentions Bob, his bell counts it
// at once, he opens it, is taken to the message, and it stays read.
import { expect, test } from "./support/test";
import { send, twoPeople } from "./support/actions";

test("a mention reaches the other person's bell live; opening it leads to the message and marks it read", async ({ browser }) => {
  const { a, b, bob, close } = await twoPeople(browser, "Bells");
  const bell = b.locator("details.bell > summary");
  await expect(bell).toHaveAttribute("aria-label", "Notifications");

  // Ana mentions Bob in #general: his bell counts it without a reload.
  await send(a, `@${bob} the report is ready`);
  await expect(bell).toHaveAttribute("aria-label", "Notifications, 1 unread");
  await expect(bell.locator(".unread-count")).toHaveText("1");

  // He opens the bell and the notification: it leads to the message and is read.
  await bell.click();
  const panel = b.getByRole("region", { name: "Notifications" });
  const item = panel.getByRole("link", { name: /Ana mentioned you in #general/ });
  await expect(item).toContainText("the report is ready");
  await item.click();
  await expect(b).toHaveURL(/\?at=\d+/);
  await expect(bell).toHaveAttribute("aria-label", "Notifications");
  // Still read after a reload (it was stored, not just shown).
  await b.reload();
  await expect(b.locator("html")).toHaveAttribute("data-live", "connected", { timeout: 10_000 });
  await b.locator("details.bell > summary").click();
  const again = b.getByRole("region", { name: "Notifications" }).locator("li.notification");
  await expect(again).toHaveCount(1);
  await expect(again).not.toHaveClass(/unread/);
  await expect(b.locator("details.bell > summary")).toHaveAttribute("aria-label", "Notifications");
  await close();
});
