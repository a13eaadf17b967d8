import { expect, test } from "./support/test";
import { createChannel, createWorkspace, inviteLink, send, signUp, unique } from "./support/actions";
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

test("a sensitive channel says its messages are not searchable, and search says it left it out", async ({ page }) => {
  await signUp(page, unique("sol"), "Sol");
  await createWorkspace(page, "Counsel");
  await createChannel(page, "legal", { sensitive: true });
  await expect(page.locator(".sensitive-note")).toHaveText(/Sensitive channel: its messages are not searchable/);
  await send(page, "the settlement draft");
  await expectMessage(page, "Sol", "the settlement draft");
  const box = page.getByRole("searchbox", { name: "Search messages" });
  await box.fill("settlement");
  await box.press("Enter");
  await expect(page.getByText("No messages match.")).toBeVisible();
  await expect(page.locator(".unsearched")).toHaveText(
    "#legal is a sensitive channel: its messages are not searched. Open it to read them.",
  );
});

test("messages typed in quick succession over a slow connection all arrive, in order", async ({ page }) => {
  await signUp(page, unique("fay"), "Fay");
  await createWorkspace(page, "Fast typists");
  await expectLive(page);
  // Every request now takes at least 400 ms to answer.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 400,
    downloadThroughput: 256 * 1024,
    uploadThroughput: 64 * 1024,
  });
  const box = page.getByRole("textbox", { name: /^Message #/ });
  const lines = ["one", "two", "three", "four", "five"].map((w) => `${w} ${unique("m")}`);
  for (const line of lines) {
    // Typed while the sends before it are still on their way.
    await box.pressSequentially(line, { delay: 5 });
    await box.press("Enter");
  }
  await expect(box).toHaveValue("");
  const bodies = page.getByRole("log").getByRole("listitem").locator(".body");
  await expect.poll(() => bodies.allInnerTexts(), { timeout: 15_000 }).toEqual(lines);
  await expect(page.locator("#composer-error")).toHaveCount(0);
});

test("a draft survives a reload, a move to another channel and a failed send", async ({ page }) => {
  await signUp(page, unique("dee"), "Dee");
  await createWorkspace(page, "Drafters");
  await createChannel(page, "elsewhere");
  await page.getByRole("link", { name: "general" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await expectLive(page);
  const box = page.getByRole("textbox", { name: "Message #general" });
  await box.fill("half a thought");

  await page.reload();
  await expect(box).toHaveValue("half a thought");

  await page.getByRole("link", { name: "elsewhere" }).click();
  const other = page.getByRole("textbox", { name: "Message #elsewhere" });
  await expect(other).toHaveValue("");
  await page.getByRole("link", { name: "general" }).click();
  await expect(box).toHaveValue("half a thought");

  // The send fails: the text comes back with the reason.
  await expectLive(page);
  await page.route("**/api/post_message*", (route) => route.abort("connectionfailed"));
  await box.press("Enter");
  await expect(page.locator("#composer-error")).toBeVisible();
  await expect(box).toHaveValue("half a thought");

  // Sent once the connection is back; the box and the draft are empty.
  await page.unroute("**/api/post_message*");
  await box.press("Enter");
  await expectMessage(page, "Dee", "half a thought");
  await expect(box).toHaveValue("");
  await page.reload();
  await expect(box).toHaveValue("");
});

test("pinning and unpinning a message with the app running", async ({ page }) => {
  await signUp(page, unique("pia"), "Pia");
  await createWorkspace(page, "Pinners");
  await expectLive(page);
  await send(page, "worth keeping");
  const item = page.getByRole("log").getByRole("listitem").filter({ hasText: "worth keeping" });
  await item.hover();
  await item.getByRole("button", { name: "Pin", exact: true }).click();
  await expect(item.getByText("📌 Pinned")).toBeVisible();
  await expect(page.getByText("📌 1 pinned")).toBeVisible();
  await item.hover();
  await item.getByRole("button", { name: "Unpin" }).click();
  await expect(item.getByText("📌 Pinned")).toHaveCount(0);
  await expect(page.getByText("📌 1 pinned")).toHaveCount(0);
});
