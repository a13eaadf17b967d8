// Analytics as who manages a workspace reads them: charts drawn by the
// server for messages and the people who posted per day and the busiest
// channels, their numbers, and a figure downloaded as CSV; the
// deployment's own for its administrators. (PARLEY_ADMINS names
// "analyst" in playwright.config.ts.)
import { readFile } from "node:fs/promises";
import { expect, test } from "./support/test";
import { createWorkspace, send, signUp } from "./support/actions";
import { expectMessage } from "./support/checks";

test("a workspace's owner sees its messages charted and downloads a figure", async ({ page }) => {
  await signUp(page, "analyst", "Analyst");
  await createWorkspace(page, "Metrics");
  await send(page, "counted soon");
  await expectMessage(page, "Analyst", "counted soon");
  await page.getByRole("link", { name: "Settings", exact: true }).click();
  await page.getByRole("link", { name: "Analytics" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Analytics · Metrics" })).toBeVisible();
  await expect(page.locator("#figure-messages svg")).toBeVisible();
  await expect(page.locator("#figure-active_people svg")).toBeVisible();
  await expect(page.locator("#figure-channels figcaption")).toContainText("Busiest channels");

  // Messages are counted a few seconds after they are written. (The
  // figures are read one after the other: a page drawn while the count
  // moved can show it in one and not yet in another, so both are waited for.)
  const channels = page.locator("#figure-channels");
  const messages = page.locator("#figure-messages");
  const today = messages.locator("tbody tr").last();
  await expect(async () => {
    await page.reload();
    await expect(channels.locator("svg")).toContainText("#general", { timeout: 1000 });
    await expect(today).toContainText(/\d{4}-\d{2}-\d{2}\s*1\s*0/, { timeout: 1000 });
  }).toPass({ timeout: 40_000 });
  await messages.getByText("The numbers").click();
  await expect(today).toBeVisible();

  await page.getByRole("link", { name: "7 days" }).click();
  await expect(page.getByRole("link", { name: "7 days" })).toHaveAttribute("aria-current", "page");
  await expect(messages.locator("tbody tr")).toHaveCount(7);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    messages.getByRole("link", { name: "CSV" }).click(),
  ]);
  const csv = (await readFile(await download.path())).toString("utf8");
  expect(csv.split("\r\n")[0]).toBe("day,messages,thread replies");
  expect(csv.trim().split("\r\n")).toHaveLength(8);

  // The deployment's administrators see every workspace's.
  await page.goto("/admin");
  await page.getByRole("link", { name: "Analytics" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Deployment analytics" })).toBeVisible();
  await expect(page.locator("#figure-messages svg")).toBeVisible();
  await expect(page.locator("#figure-channels svg")).toContainText(/#\S+ \(.+\)/);
});
