// Link previews as people see them: a link posted by one person shows its
// page's title, description and image under the message on everyone's
// page, the image loaded from Parley; its author removes the preview, with
// JavaScript and without.
import { expect, test } from "./support/test";
import { createWorkspace, send, signUp, twoPeople, unique } from "./support/actions";
import { site } from "./support/website";

test("a posted link shows its preview to everyone, and its author removes it", async ({ browser }) => {
  const harbour = await site();
  const { a, b, close } = await twoPeople(browser, "Sailors");
  await send(a, `Tides today: ${harbour.url}`);

  const preview = b.getByRole("group", { name: `Preview of ${harbour.url}` });
  await expect(preview.getByRole("link", { name: "Tide tables for the bay" })).toHaveAttribute("href", harbour.url);
  await expect(preview).toContainText("Harbour Office");
  await expect(preview).toContainText("High water at 06:12 and 18:40.");
  const image = preview.locator("img.preview-image");
  await expect(image).toHaveAttribute("src", /^\/files\/previews\/\d+\/0$/);
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2);
  expect(harbour.imageRequests()).toBe(1);
  await expect(b.getByRole("button", { name: `Remove the preview of ${harbour.url}` })).toHaveCount(0);

  const mine = a.getByRole("group", { name: `Preview of ${harbour.url}` });
  await mine.getByRole("button", { name: `Remove the preview of ${harbour.url}` }).click();
  await expect(mine).toHaveCount(0);
  await expect(preview).toHaveCount(0);
  await expect(b.getByRole("log").getByRole("link", { name: harbour.url })).toBeVisible();
  await close();
  await harbour.close();
});

test("without JavaScript the preview shows on the next page load and is removed by a form", async ({ browser }) => {
  const harbour = await site();
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signUp(page, unique("nina"), "Nina");
  await createWorkspace(page, "Plain Harbour");
  await page.getByRole("textbox", { name: /^Message #/ }).fill(harbour.url);
  await page.getByRole("button", { name: "Send" }).click();

  const preview = page.getByRole("group", { name: `Preview of ${harbour.url}` });
  await expect(async () => {
    await page.reload();
    await expect(preview).toBeVisible({ timeout: 200 });
  }).toPass({ timeout: 10_000 });
  await expect(preview.getByRole("link", { name: "Tide tables for the bay" })).toBeVisible();
  await preview.getByRole("button", { name: `Remove the preview of ${harbour.url}` }).click();
  await expect(page.getByRole("log").getByRole("link", { name: harbour.url })).toBeVisible();
  await expect(preview).toHaveCount(0);
  await context.close();
  await harbour.close();
});
