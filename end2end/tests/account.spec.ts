import { test } from "./support/test";
import { changePassword, revokeInvite } from "./support/access";

test("a person changes their password on the account page", async ({ page }) => {
  await changePassword(page);
});

test("an invite link revoked in the workspace settings stops working", async ({ page }) => {
  await revokeInvite(page);
});
