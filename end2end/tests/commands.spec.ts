// Slash commands as a person types them in the message box: suggestions
// after "/", built-ins that post or answer only to the person, mistakes
// kept in the box with what to fix, and a workspace's own command calling
// a team's service that answers at once and later.
import { expect, test } from "./support/test";
import { send, twoPeople } from "./support/actions";
import { expectMessage } from "./support/checks";
import { Receiver, signedWith } from "./support/receiver";

test("typing / offers the commands, and a chosen one runs with Enter", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Commands");
  const box = a.getByRole("textbox", { name: /^Message #/ });
  await box.pressSequentially("/sh");
  const offered = a.getByRole("listbox", { name: "Commands" });
  await expect(offered.getByRole("option")).toHaveText([/^\/shrug \[text\]\s+Post the text with/]);
  await box.press("Enter");
  await expect(box).toHaveValue("/shrug ");
  await box.pressSequentially("no idea");
  await box.press("Enter");
  await expectMessage(b, "Ana", "no idea ¯\\_(ツ)_/¯");
  await expect(box).toHaveValue("");
  await close();
});

test("what a command says shows only to who typed it, until dismissed", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Helpful");
  await send(a, "/help");
  const reply = a.getByRole("status").filter({ hasText: "Only visible to you" });
  await expect(reply).toContainText("/remind me in 10 minutes to …");
  await expect(reply).toContainText("start it with //");
  await expect(b.getByText("Only visible to you")).toHaveCount(0);
  await expect(b.getByRole("log").getByRole("listitem")).toHaveCount(0);
  await reply.getByRole("button", { name: "Dismiss" }).click();
  await expect(a.getByText("Only visible to you")).toHaveCount(0);

  // /away shows Ana as away to Bob; typing it again brings her back.
  await send(a, "/away");
  await expect(a.getByRole("status").filter({ hasText: "You are shown as away" })).toBeVisible();
  await send(a, "/away");
  await expect(a.getByRole("status").filter({ hasText: "Welcome back" })).toBeVisible();
  await close();
});

test("a mistyped command stays in the box with how to write it; // posts a slash", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Typos");
  const box = a.getByRole("textbox", { name: /^Message #/ });
  await send(a, "/remind me in ten minutes to stretch");
  await expect(a.getByRole("alert")).toContainText("/remind me in 10 minutes to stretch");
  await expect(box).toHaveValue("/remind me in ten minutes to stretch");
  await box.fill("//etc/hosts is the file");
  await box.press("Enter");
  await expectMessage(b, "Ana", "/etc/hosts is the file");
  await close();
});

test("/search opens the search page with the words asked", async ({ browser }) => {
  const { a, close } = await twoPeople(browser, "Finders");
  await send(a, "findable words here");
  await send(a, "/search findable");
  await expect(a).toHaveURL(/\/search\?q=findable$/);
  await expect(a.locator("#search-page-q")).toHaveValue("findable");
  await close();
});

test("a workspace's own command calls its service, whose answers show to the person then in the channel", async ({ browser, request }) => {
  const receiver = await Receiver.start(JSON.stringify({ text: "Deploying *staging*…" }));
  const { a, b, close } = await twoPeople(browser, "Deployers");
  const channel = a.url();
  await a.getByRole("link", { name: "Integrations" }).click();
  const form = a.getByRole("form", { name: "Add a slash command" });
  await form.getByLabel("Command (typed after the slash)").fill("deploy");
  await form.getByLabel("URL to call").fill(receiver.url("/deploy"));
  await form.getByLabel(/What it does/).fill("Deploy a branch");
  await form.getByLabel("What follows it (optional)").fill("[environment]");
  await form.getByRole("button", { name: "Add command" }).click();
  const secret = await a.getByRole("textbox", { name: "Signing secret" }).inputValue();
  expect(secret).toMatch(/^scsec_/);
  await expect(a.locator("tr.command-row")).toContainText("/deploy [environment]");

  await a.goto(channel);
  const box = a.getByRole("textbox", { name: /^Message #/ });
  await box.pressSequentially("/dep");
  await expect(a.getByRole("listbox", { name: "Commands" }).getByRole("option")).toHaveText([/^\/deploy \[environment\]\s+Deploy a branch/]);
  await box.pressSequentially("loy staging");
  await box.press("Enter");
  const call = await receiver.next();
  expect(signedWith(call, secret)).toBe(true);
  const fields = new URLSearchParams(call.body);
  expect(fields.get("command")).toBe("/deploy");
  expect(fields.get("text")).toBe("staging");
  const reply = a.getByRole("status").filter({ hasText: "Only visible to you" });
  await expect(reply.locator("strong")).toHaveText("staging");
  await expect(b.getByText("Deploying")).toHaveCount(0);

  // Later, the service answers through the response URL: once to Ana
  // alone (it reaches her open page, over its live connection, which is
  // not replayed: the page must be connected first), once for the channel
  // as its bot.
  await expect(a.locator("html")).toHaveAttribute("data-live", "connected");
  const later = await request.post(fields.get("response_url")!, { data: { text: "Halfway there" } });
  expect(later.status()).toBe(200);
  await expect(reply).toContainText("Halfway there");
  const done = await request.post(fields.get("response_url")!, { data: { text: "Deployed", response_type: "in_channel" } });
  expect(done.status()).toBe(200);
  await expectMessage(b, "/deploy", "Deployed");
  const posted = b.getByRole("log").getByRole("listitem").filter({ hasText: "Deployed" });
  await expect(posted.locator(".bot-tag")).toHaveText("BOT");

  // The command's log says who typed what and how it answered.
  await a.getByRole("link", { name: "Integrations" }).click();
  await a.getByRole("link", { name: "Uses of /deploy" }).click();
  await expect(a.getByRole("heading", { name: "Uses of /deploy" })).toBeVisible();
  const use = a.locator("li.command-use");
  await expect(use).toHaveCount(1);
  await expect(use).toContainText("staging");
  await expect(use).toContainText("HTTP 200");
  await expect(use).toContainText("2 later answers");
  await close();
  await receiver.close();
});
