// The deployment's administration as its administrator uses it: setting
// how long messages are kept, putting someone on a legal hold and
// releasing it, reading what was done in the audit log, a channel's own
// retention, and a compliance export asked for and downloaded; someone
// else is turned away. (PARLEY_ADMINS names "keeper" and "exporter" in
// playwright.config.ts.)
import { readFile } from "node:fs/promises";
import { expect, test } from "./support/test";
import { createWorkspace, send, signUp } from "./support/actions";
import { expectMessage } from "./support/checks";

test("an administrator sets retention and holds, then releases, someone", async ({ page }) => {
  await signUp(page, "keeper", "Keeper");
  await expect(page.getByRole("heading", { level: 1, name: "Your workspaces" })).toBeVisible();
  await page.getByRole("link", { name: "Administration" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Administration" })).toBeVisible();

  await page.getByLabel("Keep messages for (days; 0 keeps forever)").fill("400");
  await page.getByRole("button", { name: "Save retention" }).click();
  await expect(page.locator("#retention-status")).toHaveText(/Messages are kept 400 days/);
  await page.getByLabel("Keep messages for (days; 0 keeps forever)").fill("soon");
  await page.getByRole("button", { name: "Save retention" }).click();
  await expect(page.locator("#retention-messages-error")).toContainText("whole number of days");

  await page.getByLabel("Name", { exact: true }).fill("Case 12");
  await page.getByLabel("Reason").fill("Litigation");
  await page.getByLabel("People (usernames)").fill("@nobody-here");
  await page.getByRole("button", { name: "Put on hold" }).click();
  await expect(page.locator("#hold-people-error")).toContainText("No one is called @nobody-here");
  await page.getByLabel("People (usernames)").fill("@keeper");
  await page.getByRole("button", { name: "Put on hold" }).click();
  const hold = page.locator("li.hold", { hasText: "Case 12" });
  await expect(hold).toContainText("@keeper");

  await hold.getByText("Release…").click();
  await hold.getByRole("button", { name: "Release" }).click();
  await expect(hold).toContainText("released");
  const audit = page.getByRole("region", { name: "Audit log" });
  await expect(audit).toContainText("Released the legal hold “Case 12”");
  await expect(audit).toContainText("Put “Case 12” on legal hold: Litigation");
  await expect(audit).toContainText("messages kept 400 days");
});

test("someone who is not an administrator is turned away", async ({ page }) => {
  await signUp(page, "visitor", "Visitor");
  await expect(page.getByRole("heading", { level: 1, name: "Your workspaces" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Administration" })).toHaveCount(0);
  await page.goto("/admin");
  await expect(page.getByText("Only the deployment's administrators can do this.")).toBeVisible();
});

test("an administrator keeps a channel 30 days, then exports and downloads its day", async ({ page }) => {
  await signUp(page, "exporter", "Exporter");
  await createWorkspace(page, "Records");
  await send(page, "for the record");
  await expectMessage(page, "Exporter", "for the record");

  await page.getByRole("link", { name: "Settings", exact: true }).click();
  const retention = page.getByRole("region", { name: "Retention" });
  // The deployment's retention may be set by the test above, running at the same time.
  await expect(retention.locator("#retention-status")).toContainText(/This workspace keeps messages (forever|\d+ days)/);
  await retention.getByLabel("Keep, in").selectOption({ label: "#general" });
  await retention.getByLabel(/^Messages for/).fill("30");
  await retention.getByRole("button", { name: "Save retention" }).click();
  await expect(retention.locator("#channel-retention")).toContainText("#general: messages 30 days");

  await page.goto("/admin");
  const exports = page.getByRole("region", { name: "Compliance exports" });
  await exports.getByLabel("Format").selectOption("csv");
  await exports.getByLabel("Workspace", { exact: true }).selectOption({ label: "Records" });
  await exports.getByLabel(/^Only these channels/).fill("#nowhere");
  await exports.getByRole("button", { name: "Export", exact: true }).click();
  await expect(exports.locator("#export-channels-error")).toContainText("This workspace has no channel #nowhere");
  await exports.getByLabel(/^Only these channels/).fill("#general");
  await exports.getByRole("button", { name: "Export", exact: true }).click();
  // The page follows the export's progress until it is ready.
  const item = exports.locator("li.export").first();
  await expect(item).toContainText(/Ready: 1 message, 0 files/);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    item.getByRole("link", { name: "Download" }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^parley-csv-export-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}-\d+\.zip$/);
  const zip = await readFile(await download.path());
  expect(zip.subarray(0, 2).toString("latin1")).toBe("PK");
  expect(zip.toString("latin1")).toMatch(/Records-\d+\/general\/\d{4}-\d{2}-\d{2}\.csv/);
  const audit = page.getByRole("region", { name: "Audit log" });
  await page.reload();
  await expect(audit).toContainText("Downloaded the compliance export");
});
