// Incoming webhooks as a team sets one up: made on the integrations page,
// called by a script, its posts shown live with a BOT tag, then removed.
import { expect, test } from "./support/test";
import { send, twoPeople } from "./support/actions";
import { expectMessage } from "./support/checks";
import { Receiver, signedWith } from "./support/receiver";

test("a webhook made on the integrations page posts live with a BOT tag until it is removed", async ({ browser, request }) => {
  const { a, b, close } = await twoPeople(browser, "Hooks");
  await a.getByRole("link", { name: "Integrations" }).click();
  await expect(a.getByRole("heading", { level: 1, name: "Integrations" })).toBeVisible();
  const form = a.getByRole("form", { name: "Add an incoming webhook" });
  await form.getByLabel("Name (its posts show it)").fill("Deploys");
  await form.getByLabel("Posts in").selectOption({ label: "#general" });
  await form.getByRole("button", { name: "Add webhook" }).click();
  const address = a.getByRole("textbox", { name: "Address" });
  await expect(address).toHaveValue(/\/hooks\/wh_[0-9a-f]{64}$/);
  const url = await address.inputValue();
  await expect(a.locator("tr.webhook-row", { hasText: "Deploys" })).toContainText("#general");

  // A script calls it in Slack's format; Bob, in #general, sees it at once.
  const posted = await request.post(url, { data: { text: "Build *passed*", username: "CI" } });
  expect(posted.status()).toBe(200);
  await expectMessage(b, "CI", "Build passed");
  const item = b.getByRole("log").getByRole("listitem").filter({ hasText: "Build passed" });
  await expect(item.locator(".bot-tag")).toHaveText("BOT");
  await expect(item.locator("strong")).toHaveText("passed");
  await expect(item.locator(".author")).toHaveAttribute("title", "Bot: Deploys");

  // Removing it asks first; then its address is refused.
  const row = a.locator("tr.webhook-row", { hasText: "Deploys" });
  await row.getByText("Remove…").click();
  await expect(row.getByText("Scripts posting to “Deploys” will be refused from now on.")).toBeVisible();
  await row.getByRole("button", { name: "Remove the webhook Deploys" }).click();
  await expect(a.locator("tr.webhook-row")).toHaveCount(0);
  expect((await request.post(url, { data: { text: "late" } })).status()).toBe(404);
  await close();
});

test("the integrations page says who may add webhooks when the reader may not", async ({ browser }) => {
  const { b, close } = await twoPeople(browser, "No hooks");
  await b.getByRole("link", { name: "Integrations" }).click();
  await expect(b.getByText(/You cannot add webhooks here: that takes the “Manage webhooks” permission/)).toBeVisible();
  await expect(b.getByRole("form", { name: "Add an incoming webhook" })).toHaveCount(0);
  await close();
});

test("an admin makes a bot whose token, shown once, drives the API until the bot is removed", async ({ browser, request }) => {
  const { a, close } = await twoPeople(browser, "Bots");
  await a.getByRole("link", { name: "Integrations" }).click();
  const form = a.getByRole("form", { name: "Make a bot" });
  await form.getByLabel("Username (to add it to channels and mention it)").fill("standup-bot");
  await form.getByLabel("Display name").fill("Standup Bot");
  await form.getByLabel("Avatar (one emoji)").fill(":bulb:");
  await form.getByLabel("What it does").fill("Asks for the daily stand-up");
  await form.getByRole("button", { name: "Make bot" }).click();
  const bot = a.locator("li.bot", { hasText: "Standup Bot" });
  await expect(bot).toContainText("@standup-bot");
  await expect(bot.locator(".bot-tag")).toHaveText("BOT");
  await expect(bot).toContainText("💡");

  await bot.getByRole("form", { name: "Make a token for Standup Bot" }).getByPlaceholder("Token name").fill("cron");
  await bot.getByRole("button", { name: "Make token" }).click();
  const shown = a.getByRole("textbox", { name: /The token “cron”/ });
  const token = await shown.inputValue();
  expect(token).toMatch(/^pt_/);
  const me = await request.get("/api/auth/me", { headers: { authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe("standup-bot");
  await expect(a.getByRole("list", { name: "Tokens of Standup Bot" })).toContainText("cron");

  await bot.getByText("Remove bot…").click();
  await bot.getByRole("button", { name: "Remove the bot Standup Bot" }).click();
  await expect(a.locator("li.bot")).toHaveCount(0);
  const after = await request.get("/api/auth/me", { headers: { authorization: `Bearer ${token}` } });
  expect(after.status()).toBe(401);
  await close();
});

test("an outgoing webhook hears a trigger word, answers as its bot, and logs its calls to send again", async ({ browser }) => {
  const receiver = await Receiver.start(JSON.stringify({ text: "Deployed *main* to staging" }));
  const { a, b, close } = await twoPeople(browser, "Outgoing");
  await a.getByRole("link", { name: "Integrations" }).click();
  const form = a.getByRole("form", { name: "Add an outgoing webhook" });
  await form.getByLabel("Name (its answers show it)").fill("Deployer");
  await form.getByLabel("URL to call").fill(receiver.url("/deploy"));
  await expect(form.getByRole("checkbox", { name: "Messages" })).toBeChecked();
  await form.getByRole("checkbox", { name: "#general" }).check();
  await form.getByLabel(/Only messages starting with/).fill("deploy");
  await form.getByRole("button", { name: "Add outgoing webhook" }).click();
  const secret = await a.getByRole("textbox", { name: "Signing secret" }).inputValue();
  expect(secret).toMatch(/^owsec_/);
  await expect(a.getByRole("textbox", { name: /^Token/ })).toHaveValue(/^owt_/);
  const row = a.locator("tr.outgoing-row", { hasText: "Deployer" });
  await expect(row).toContainText("#general · messages starting with deploy");

  // Bob asks in #general; the service is called, signed, and its answer
  // appears for him as the webhook's bot.
  await send(b, "deploy main please");
  const call = await receiver.next();
  expect(call.path).toBe("/deploy");
  expect(signedWith(call, secret)).toBe(true);
  expect(JSON.parse(call.body)).toMatchObject({ text: "deploy main please", trigger_word: "deploy", channel_name: "general" });
  const answer = b.getByRole("log").getByRole("listitem").filter({ hasText: "Deployed main to staging" });
  await expect(answer.locator(".bot-tag")).toHaveText("BOT");

  // The log shows the call, delivered, and sends it again.
  await row.getByRole("link", { name: "Calls of Deployer" }).click();
  await expect(a.getByRole("heading", { level: 1, name: "Calls of Deployer" })).toBeVisible();
  const logged = a.locator("li.webhook-call");
  await expect(logged).toHaveCount(1);
  await expect(logged.first()).toContainText("delivered");
  await expect(logged.first()).toContainText("HTTP 200");
  await logged.first().getByRole("button", { name: "Send the messages call again" }).click();
  const again = await receiver.next();
  expect(again.body).toBe(call.body);
  await expect(logged).toHaveCount(2);
  await close();
  await receiver.close();
});
