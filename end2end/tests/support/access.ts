// Taking access back, as a person does it: the same steps with and without
// JavaScript (account.spec.ts and nojs.spec.ts run them).
import { expect, type Page } from "@playwright/test";
import { createWorkspace, inviteLink, signUp, unique } from "./actions";

/** Changes the password on the account page (a wrong current one first), then signs in with the new one. */
export async function changePassword(page: Page) {
  const name = unique("pat");
  await signUp(page, name, "Pat");
  await expect(page.getByRole("heading", { name: "Your workspaces" })).toBeVisible();
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Account" })).toBeVisible();

  const form = page.getByRole("form", { name: "Change your password" });
  await form.getByLabel("Current password").fill("not my password");
  await form.getByLabel("New password").fill("a brand new passphrase");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toContainText("That is not your current password.");

  await form.getByLabel("Current password").fill("correct horse battery");
  await form.getByLabel("New password").fill("a brand new passphrase");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password is changed");

  // This browser stays signed in; the new password is the one that works.
  await page.goto("/");
  await page.getByRole("button", { name: "Sign out" }).first().click();
  await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("username and password do not match");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Your workspaces" })).toBeVisible();
}

/** Makes an invite link, revokes it in the workspace settings, and finds the link dead. */
export async function revokeInvite(page: Page) {
  await signUp(page, unique("ren"), "Ren");
  await createWorkspace(page, "Revokers");
  const link = await inviteLink(page);
  const code = link.split("/invite/")[1];

  await page.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Workspace settings" })).toBeVisible();
  const section = page.getByRole("region", { name: "Invite links" });
  const row = section.getByRole("row").filter({ has: page.locator(`input[value$="${code}"]`) });
  await expect(row).toContainText("Member");
  await expect(row).toContainText("Ren");
  await row.getByRole("button", { name: /Revoke the invite made by Ren/ }).click();
  await expect(section).toContainText("No invite links are open.");

  await page.goto(`/invite/${code}`);
  await expect(page.getByRole("heading", { level: 1, name: "Not found" })).toBeVisible();
}
