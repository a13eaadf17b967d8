// Roles and permissions as people meet them: an admin makes a coloured role and takes
// send_messages from it in one channel; a member holding it sees why they cannot post;
// a guest invited to one channel sees nothing else.
import { expect, test } from "./support/test";
import { createChannel, send, signUp, twoPeople, unique } from "./support/actions";
import { expectLive, expectOrder } from "./support/checks";

test("a role without send_messages in a channel disables the composer with the reason; guests see only their channel", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Roles");

  // Ana (the owner) creates a coloured role in the workspace settings.
  await a.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(a.getByRole("heading", { level: 1, name: "Workspace settings" })).toBeVisible();
  await a.getByText("+ New role").click();
  const newRole = a.getByRole("form", { name: "Create a role" });
  await newRole.getByLabel("Name", { exact: true }).fill("Quiet");
  await newRole.getByLabel("Colour", { exact: true }).fill("#aa3300");
  await newRole.getByRole("button", { name: "Create role" }).click();
  const quiet = a.locator('li.role[data-role="Quiet"] .role-name');
  // In the role's colour (darkened where it would be too light to read).
  await expect(quiet).toHaveCSS("--role", "#aa3300");
  await expect(quiet).not.toHaveCSS("color", "rgb(29, 28, 29)");

  // She gives it to Bob and takes send_messages from it in #general.
  const bobRow = a.locator("li.member-setting", { hasText: "Bob" });
  await bobRow.getByLabel("Role", { exact: true }).selectOption({ label: "Quiet" });
  await bobRow.getByRole("button", { name: "Give role" }).click();
  await expect(bobRow.locator(".role-chip", { hasText: "Quiet" })).toBeVisible();
  const general = a.locator('li.channel-settings[data-channel="general"]');
  await general.getByText("Settings", { exact: true }).click();
  await expect(general.getByText("Everyone has here what their roles give them everywhere.")).toBeVisible();
  await general.getByText("Set permissions for a role or member…").click();
  const perms = a.getByRole("form", { name: "Permissions in general" });
  await perms.getByLabel("For").selectOption({ label: "Role: Quiet" });
  await perms.getByLabel("Deny send_messages").check();
  await perms.getByRole("button", { name: "Save permissions" }).click();
  await expect(a.locator("tr.audit-entry", { hasText: "channel.permissions" })).toBeVisible();
  // The channel's settings now list it; opened, its form is ticked as saved.
  const set = general.locator("details.override", { hasText: "Role: Quiet" });
  await expect(set.locator("summary")).toContainText("denies send_messages");
  await set.locator("summary").click();
  const saved = general.getByRole("form", { name: "Permissions of Role: Quiet in general" });
  await expect(saved.getByLabel("Deny send_messages")).toBeChecked();
  await expect(saved.getByLabel("Allow send_messages")).not.toBeChecked();
  // The form for adding one starts afresh, no longer offering Quiet.
  await expect(perms.getByLabel("For")).toHaveValue("");
  await expect(perms.getByLabel("Deny send_messages")).not.toBeChecked();
  await expect(perms.getByLabel("For").locator("option", { hasText: "Role: Quiet" })).toHaveCount(0);

  // Bob's open page updates by itself: the composer is disabled and says why.
  const blocked = b.getByRole("textbox", { name: "Message" });
  await expect(blocked).toBeDisabled({ timeout: 10_000 });
  await expect(b.getByRole("status").filter({ hasText: "You do not have permission to send messages in this channel." })).toBeVisible();

  // Ana's name shows in her role's colour (Owner) in chat.
  await a.getByRole("link", { name: "general" }).first().click();
  await send(a, "Colours!");
  const author = b.locator("li.message", { hasText: "Colours!" }).locator(".author");
  await expect(author).toHaveCSS("--role", "#b8860b");
  await expect(author).not.toHaveCSS("color", "rgb(29, 28, 29)");

  // A channel open to guests, and a guest invited to it alone.
  await a.getByText("+ New channel").click();
  await a.getByLabel("Channel name").fill("client");
  await a.getByRole("button", { name: "Create channel" }).click();
  await expect(a.getByRole("heading", { level: 1, name: "client" })).toBeVisible();
  await a.getByRole("link", { name: "Settings", exact: true }).click();
  const client = a.locator('li.channel-settings[data-channel="client"]');
  await client.getByText("Settings", { exact: true }).click();
  await client.getByLabel("Open to guests (external)").check();
  await client.getByRole("button", { name: "Save channel" }).click();
  await expect(client).toContainText("open to guests");
  const guests = a.getByRole("form", { name: "Invite a guest" });
  await guests.getByLabel("#client").check();
  await guests.getByLabel(/^Email/).fill("gus@example.com");
  await guests.getByRole("button", { name: "Make guest invite link" }).click();
  await expect(a.getByRole("status").filter({ hasText: "The invitation is on its way to gus@example.com." })).toBeVisible();
  const link = await a.locator("input.guest-link").inputValue();

  const guestContext = await browser.newContext();
  const g = await guestContext.newPage();
  await g.goto(link);
  await g.getByRole("link", { name: "Create an account to join" }).click();
  await signUp(g, unique("gus"), "Gus", "");
  await g.getByRole("button", { name: "Join as Gus" }).click();
  await expect(g.getByRole("heading", { level: 1, name: "client" })).toBeVisible();
  const channels = g.getByRole("list", { name: "Channels" }).getByRole("listitem");
  await expect(channels).toHaveCount(1);
  await expect(channels).toHaveText(/client/);
  // The rest of the workspace is not there for a guest.
  const generalUrl = b.url();
  await g.goto(generalUrl);
  await expect(g.getByRole("heading", { level: 1, name: "general" })).toHaveCount(0);
  await guestContext.close();
  await close();
});

test("roles and channels are reordered by drag and drop, and the sidebar follows live", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Ordering");
  await createChannel(a, "alpha");
  await createChannel(a, "beta");
  await a.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(a.getByRole("heading", { level: 1, name: "Workspace settings" })).toBeVisible();

  // Two new roles land just above Member, the newer one lower.
  for (const name of ["First", "Second"]) {
    const form = a.getByRole("form", { name: "Create a role" });
    // The form stays open after a role is made, for the next one.
    if (!(await form.isVisible())) await a.getByText("+ New role").click();
    await form.getByLabel("Name", { exact: true }).fill(name);
    await form.getByRole("button", { name: "Create role" }).click();
    await expect(a.locator(`li.role[data-role="${name}"]`)).toBeVisible();
  }
  const roles = a.locator("li.role");
  await expectOrder(roles, "data-role", ["Owner", "Admin", "Moderator", "First", "Second", "Member", "Guest"]);

  // Dropping Second on Moderator puts it in Moderator's place; the order is saved.
  await a.locator('li.role[data-role="Second"]').dragTo(a.locator('li.role[data-role="Moderator"]'));
  await expectOrder(roles, "data-role", ["Owner", "Admin", "Second", "Moderator", "First", "Member", "Guest"]);
  await a.reload();
  await expectOrder(roles, "data-role", ["Owner", "Admin", "Second", "Moderator", "First", "Member", "Guest"]);
  // Dragging needs the page hydrated (its part of the app loaded), not only shown.
  await expectLive(a);

  // Dropping #beta on #general puts it first, in Bob's sidebar too, without a reload there.
  const bobChannels = b.getByRole("list", { name: "Channels" }).getByRole("link");
  await expect(bobChannels.first()).toHaveText(/general/);
  await expect(bobChannels.last()).toHaveText(/beta/);
  await a.locator('li.channel-settings[data-channel="beta"]').dragTo(a.locator('li.channel-settings[data-channel="general"]'));
  await expectOrder(a.locator("li.channel-settings"), "data-channel", ["beta", "general", "alpha"]);
  await expect(bobChannels.first()).toHaveText(/beta/, { timeout: 10_000 });
  await close();
});
