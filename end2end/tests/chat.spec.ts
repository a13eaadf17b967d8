import { expect, test } from "./support/test";
import { createChannel, createWorkspace, inviteLink, send, signUp, unique } from "./support/actions";
import { expectLive, expectMessage } from "./support/checks";

test("two people talk live in a private channel reached through an invite", async ({ browser }) => {
  const ana = unique("ana");
  const bob = unique("bob");
  const anaContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const a = await anaContext.newPage();
  const b = await bobContext.newPage();

  await signUp(a, ana, "Ana Lima");
  await expect(a.getByRole("heading", { name: "Your workspaces" })).toBeVisible();
  await createWorkspace(a, "Lima Labs", { private: true });
  await createChannel(a, "launch-plans", { private: true });
  const link = await inviteLink(a);
  expect(link).toMatch(/\/invite\/[A-Za-z0-9]{10}$/);

  // Bob opens the link, signs up from there and comes back to accept.
  await b.goto(link);
  await expect(b.getByRole("heading", { name: /You are invited to #launch-plans in Lima Labs/ })).toBeVisible();
  await b.getByRole("link", { name: "Create an account to join" }).click();
  await signUp(b, bob, "Bob Stone", "");
  await b.getByRole("button", { name: "Join as Bob Stone" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "launch-plans" })).toBeVisible();
  await expect(b.getByRole("complementary", { name: "Members" })).toContainText("Ana Lima");

  await expectLive(a);
  await expectLive(b);
  // Ana's member list shows Bob, online, without a reload.
  const bobInList = a.getByRole("complementary", { name: "Members" }).getByRole("listitem").filter({ hasText: "Bob Stone" });
  await expect(bobInList.getByRole("img", { name: "online" })).toBeVisible({ timeout: 2_000 });
  await send(a, "Launch is on Thursday.\nBring snacks.");
  await expectMessage(a, "Ana Lima", "Launch is on Thursday.");
  // Bob sees it within 2 s, without reloading.
  await expectMessage(b, "Ana Lima", "Bring snacks.", 2_000);

  await send(b, "Great, I'll be there 🎉");
  await expectMessage(a, "Bob Stone", "Great, I'll be there 🎉", 2_000);
  await expect(a.getByRole("textbox", { name: /^Message #/ })).toHaveValue("");

  await anaContext.close();
  await bobContext.close();
});

test("Shift+Enter makes a new line and bad input is explained", async ({ page }) => {
  await signUp(page, unique("cy"), "Cy");
  await createWorkspace(page, "Scratch");
  await expectLive(page);
  const box = page.getByRole("textbox", { name: /^Message #/ });
  await box.fill("first line");
  await box.press("Shift+Enter");
  await box.pressSequentially("second line");
  await expect(box).toHaveValue("first line\nsecond line");
  await box.press("Enter");
  await expectMessage(page, "Cy", "first line\nsecond line");

  await box.fill("x".repeat(4001));
  await box.press("Enter");
  await expect(page.getByRole("alert")).toContainText("at most 4000 characters");
  await expect(box).toHaveValue("x".repeat(4001));
});

test("sign-up and sign-in say what is wrong", async ({ page }) => {
  const name = unique("dee");
  await page.goto("/signup");
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("A password needs at least 8 characters.")).toBeVisible();

  await signUp(page, name, "Dee");
  await expect(page.getByRole("heading", { name: "Your workspaces" })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill("wrong password!");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("username and password do not match");
});

test("a typing indicator shows to the other person and goes when the message arrives", async ({ browser }) => {
  const anaContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const a = await anaContext.newPage();
  const b = await bobContext.newPage();
  await signUp(a, unique("tia"), "Tia");
  await createWorkspace(a, "Typists");
  const link = await inviteLink(a);
  await b.goto(link);
  await b.getByRole("link", { name: "Create an account to join" }).click();
  await signUp(b, unique("tom"), "Tom", "");
  await b.getByRole("button", { name: "Join as Tom" }).click();
  await expectLive(a);
  await expectLive(b);

  await a.getByRole("textbox", { name: /^Message #/ }).pressSequentially("hello th");
  await expect(b.getByText("Tia is typing…")).toBeVisible({ timeout: 2_000 });
  await expect(a.getByText("is typing…")).toHaveCount(0);
  await a.getByRole("textbox", { name: /^Message #/ }).press("Enter");
  await expectMessage(b, "Tia", "hello th", 2_000);
  await expect(b.getByText("Tia is typing…")).toHaveCount(0);
  await anaContext.close();
  await bobContext.close();
});

test("typing shows in the channel one moves to in the app", async ({ browser }) => {
  const anaContext = await browser.newContext();
  const bobContext = await browser.newContext();
  const a = await anaContext.newPage();
  const b = await bobContext.newPage();
  await signUp(a, unique("tia"), "Tia");
  await createWorkspace(a, "Movers");
  await createChannel(a, "second");
  const link = await inviteLink(a);
  await b.goto(link);
  await b.getByRole("link", { name: "Create an account to join" }).click();
  await signUp(b, unique("tom"), "Tom", "");
  await b.getByRole("button", { name: "Join as Tom" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await expectLive(a);
  await expectLive(b);

  // Tom moves to #second and back in the app (no page load); Tia types in #general.
  await b.getByRole("link", { name: "second" }).click();
  await b.getByRole("button", { name: "Join channel" }).click();
  await expect(b.getByRole("textbox", { name: "Message #second" })).toBeVisible();
  await b.getByRole("link", { name: "general" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await a.getByRole("link", { name: "general" }).click();
  await expect(a.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await a.getByRole("textbox", { name: /^Message #/ }).pressSequentially("over here");
  await expect(b.getByText("Tia is typing…")).toBeVisible({ timeout: 2_000 });
  await a.getByRole("textbox", { name: /^Message #/ }).press("Enter");
  await expectMessage(b, "Tia", "over here", 2_000);
  await anaContext.close();
  await bobContext.close();
});
