// The deployment's administration as its administrator uses it: setting
// how long messages are kept, putting someone on a legal hold and
// releasing it, and reading what was done in the audit log; someone else
// is turned away. (PARLEY_ADMINS names "keeper" in playwright.config.ts.)
import { expect, test } from "./support/test";
import { signUp } from "./support/actions";

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
