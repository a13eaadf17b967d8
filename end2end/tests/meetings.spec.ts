// Meetings as people plan them: Ana schedules one with Bob for tomorrow, both see it
// with a calendar file to download, Ana opens it and starts the call, and ends it.
import { expect, test } from "./support/test";
import { twoPeople } from "./support/actions";

/** `YYYY-MM-DDTHH:MM` for a datetime-local field, `days` from now at `hour`:00 local time. */
function localTime(days: number, hour: number): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(hour)}:00`;
}

test("a scheduled meeting shows for both, offers an .ics file, opens its call, and ends", async ({ browser }) => {
  const { a, b, bob, close } = await twoPeople(browser, "Planners");

  // Ana schedules "Sprint planning" tomorrow 09:00–10:00 with Bob.
  await a.getByRole("link", { name: "Meetings" }).click();
  await expect(a.getByRole("heading", { level: 1, name: "Meetings" })).toBeVisible();
  await a.getByText("+ Schedule a meeting").click();
  const form = a.getByRole("form", { name: "Schedule a meeting" });
  await form.getByLabel("Title").fill("Sprint planning");
  await form.getByLabel("Invite (usernames, separated by spaces)").fill(bob);
  await form.getByLabel("Starts").fill(localTime(1, 9));
  // A meeting that ends before it starts is refused with the reason.
  await form.getByLabel("Ends").fill(localTime(1, 8));
  await form.getByRole("button", { name: "Schedule meeting" }).click();
  await expect(a.getByText("The meeting must end after it starts.")).toBeVisible();
  await form.getByLabel("Ends").fill(localTime(1, 10));
  await form.getByRole("button", { name: "Schedule meeting" }).click();
  const mine = a.getByRole("listitem", { name: "Sprint planning" });
  await expect(a.getByRole("region", { name: "Upcoming and in progress" }).getByRole("listitem")).toHaveCount(1);
  await expect(mine).toContainText("Scheduled");
  await expect(mine).toContainText("With Ana, Bob");
  // Shown in Ana's local time: 09:00 tomorrow.
  await expect(mine.locator(".meeting-time time").first()).toContainText(localTime(1, 9).replace("T", " "));

  // Bob sees it too, with its calendar file.
  await b.getByRole("link", { name: "Meetings" }).click();
  const his = b.getByRole("listitem", { name: "Sprint planning" });
  await expect(his).toBeVisible();
  const ics = await b.request.get((await his.getByRole("link", { name: "Add to calendar (.ics)" }).getAttribute("href"))!);
  expect(ics.status()).toBe(200);
  const text = await ics.text();
  expect(text).toContain("BEGIN:VEVENT");
  expect(text).toContain("SUMMARY:Sprint planning");

  // Ana opens the meeting and starts its call; Bob's list shows who is in it.
  await mine.getByRole("link", { name: "Open the meeting" }).click();
  await a.getByRole("button", { name: "Join call" }).click();
  await expect(a.locator("section.call-stage")).toHaveAttribute("data-phase", "connected", { timeout: 15_000 });
  await b.reload();
  await expect(his).toContainText("In progress");
  await expect(his).toContainText("In the call: Ana");

  // Ana ends it for everyone (it asks first): her call ends, and it shows as ended.
  await a.getByRole("link", { name: "Meetings" }).click();
  await mine.getByText("End meeting…").click();
  await expect(mine.getByText("The call ends for everyone in it, and the meeting shows as ended.")).toBeVisible();
  await mine.getByRole("button", { name: "End meeting for everyone" }).click();
  await expect(mine).toContainText("Ended");
  // It moves below the meetings ahead, among those that ended.
  const ended = a.getByRole("region", { name: "Ended in the last day" });
  await expect(ended.getByRole("listitem", { name: "Sprint planning" })).toBeVisible();
  await expect(a.getByRole("region", { name: "Upcoming and in progress" })).toContainText("No meetings ahead.");
  await expect(a.getByRole("region", { name: "Your call" })).toHaveCount(0, { timeout: 10_000 });
  await close();
});
