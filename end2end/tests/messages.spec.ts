import { expect, test } from "@playwright/test";
import { createWorkspace, inviteLink, send, signUp, unique } from "./support/actions";
import { expectLive, expectMessage } from "./support/checks";

test("formatting, a live reaction, an edit and a delete between two people", async ({ browser }) => {
  const anaContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const a = await anaContext.newPage();
  const b = await bobContext.newPage();

  await signUp(a, unique("ana"), "Ana");
  await createWorkspace(a, "Formatters");
  const link = await inviteLink(a);
  await b.goto(link);
  await b.getByRole("link", { name: "Create an account to join" }).click();
  await signUp(b, unique("bob"), "Bob", "");
  await b.getByRole("button", { name: "Join as Bob" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await expectLive(a);
  await expectLive(b);

  await send(a, "**Ship** it :rocket: <script>alert(1)</script>");
  const onB = b.getByRole("log").getByRole("listitem").filter({ hasText: "Ship it 🚀" });
  await expect(onB.locator("strong")).toHaveText("Ship", { timeout: 2_000 });
  await expect(onB).toContainText("<script>alert(1)</script>");

  // Bob reacts; Ana sees it without reloading.
  await onB.hover();
  await onB.getByRole("button", { name: "React with 👍" }).click();
  const onA = a.getByRole("log").getByRole("listitem").filter({ hasText: "Ship it 🚀" });
  await expect(onA.getByRole("button", { name: /👍 1 — Bob/ })).toBeVisible({ timeout: 2_000 });
  // Ana adds hers by clicking the chip; Bob sees the count go up.
  await onA.getByRole("button", { name: /👍 1 — Bob/ }).click();
  await expect(onB.getByRole("button", { name: /👍 2 — Bob, Ana/ })).toBeVisible({ timeout: 2_000 });

  // Ana edits; Bob sees the new text and the marker.
  await onA.hover();
  await onA.getByText("Edit", { exact: true }).click();
  await onA.getByLabel("New text").fill("_Shipped_ on time");
  await onA.getByRole("button", { name: "Save" }).click();
  const edited = b.getByRole("log").getByRole("listitem").filter({ hasText: "Shipped on time" });
  await expect(edited.locator("em")).toHaveText("Shipped", { timeout: 2_000 });
  await expect(edited).toContainText("(edited)");

  // Ana deletes it; it disappears for Bob.
  await send(a, "temporary");
  await expectMessage(b, "Ana", "temporary", 2_000);
  const temp = a.getByRole("log").getByRole("listitem").filter({ hasText: "temporary" });
  await temp.hover();
  await temp.getByRole("button", { name: "Delete message" }).click();
  await expect(b.getByRole("log").getByText("temporary")).toHaveCount(0, { timeout: 2_000 });

  await anaContext.close();
  await bobContext.close();
});

test("search finds a message by part of a word and opens it in its channel", async ({ page }) => {
  await signUp(page, unique("sia"), "Sia");
  await createWorkspace(page, "Searchers");
  await expectLive(page);
  await send(page, "The quarterly redeployment is done");
  await send(page, "unrelated chatter");
  await expectMessage(page, "Sia", "unrelated chatter");
  const box = page.getByRole("searchbox", { name: "Search messages" });
  await box.fill("deploy");
  await box.press("Enter");
  await expect(page.getByRole("heading", { name: "1 result" })).toBeVisible();
  await expect(page.locator("mark")).toHaveText("deploy");
  await page.getByRole("link", { name: "Open in channel" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await expect(page.locator(".message.focus")).toContainText("The quarterly redeployment is done");
});
