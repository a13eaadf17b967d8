import { expect, test } from "./support/test";
import { PIXEL, send, twoPeople } from "./support/actions";
import { expectMessage } from "./support/checks";
import { readFile } from "node:fs/promises";

test("a conversation in a thread, live on both sides, and the Threads view", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Threaders");
  await send(a, "Where do we meet on Friday?");
  const onB = b.getByRole("log", { name: "Messages in #general" }).getByRole("listitem").filter({ hasText: "Where do we meet" });
  await expect(onB).toBeVisible({ timeout: 2_000 });

  // Bob answers in a thread.
  await onB.hover();
  await onB.getByRole("link", { name: "Reply in thread" }).click();
  const bobThread = b.getByRole("region", { name: "Thread" });
  await expect(bobThread.getByRole("log", { name: "Messages in the thread start" })).toContainText("Where do we meet");
  const bobBox = bobThread.getByRole("textbox", { name: "Message thread" });
  await bobBox.fill("At the station, 9:00");
  await bobBox.press("Enter");
  await expect(bobThread.getByRole("log", { name: "Messages in thread replies" })).toContainText("At the station");

  // Ana sees the reply count on her message without reloading, and opens the thread.
  const onA = a.getByRole("log", { name: "Messages in #general" }).getByRole("listitem").filter({ hasText: "Where do we meet" });
  const summary = onA.getByRole("link", { name: /1 reply/ });
  await expect(summary).toBeVisible({ timeout: 2_000 });
  await expect(summary).toContainText("Bob");
  await summary.click();
  const anaThread = a.getByRole("region", { name: "Thread" });
  await expect(anaThread.getByRole("log", { name: "Messages in thread replies" })).toContainText("At the station");
  await expect(anaThread.getByRole("button", { name: "Unfollow" })).toBeVisible();

  // Ana replies; Bob's open panel shows it live.
  const anaBox = anaThread.getByRole("textbox", { name: "Message thread" });
  await anaBox.fill("Perfect, see you there");
  await anaBox.press("Enter");
  await expect(bobThread.getByRole("log", { name: "Messages in thread replies" })).toContainText("see you there", {
    timeout: 2_000,
  });
  // Replies stay out of the channel itself.
  await expect(a.getByRole("log", { name: "Messages in #general" })).not.toContainText("At the station");

  // Bob's Threads view lists the thread.
  await b.getByRole("link", { name: "Threads" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "Threads" })).toBeVisible();
  await expect(b.locator(".followed-thread")).toContainText("Where do we meet");
  await expect(b.locator(".followed-thread")).toContainText("2 replies");
  await close();
});

test("a picture uploaded by drag and drop shows as a preview and the other person downloads it", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Uploaders");
  const drop = a.locator(".composer .drop-zone");
  await expect(a.getByText("Attach files")).toBeAttached();

  // Drop a picture on the composer.
  const dataTransfer = await a.evaluateHandle((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], "pixel.png", { type: "image/png" }));
    return dt;
  }, [...PIXEL]);
  await drop.dispatchEvent("drop", { dataTransfer });
  await expect(a.getByRole("list", { name: "Files to send" })).toContainText("pixel.png");
  // And a document through the button.
  await a.locator("#composer-file").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("meeting notes") });
  await expect(a.getByRole("list", { name: "Files to send" })).toContainText("notes.txt");
  const box = a.getByRole("textbox", { name: "Message #general" });
  await box.fill("Here are the files");
  await box.press("Enter");
  await expect(a.getByRole("list", { name: "Files to send" })).toHaveCount(0, { timeout: 5_000 });

  // Bob sees the preview live, and downloads the document.
  const item = b.getByRole("log", { name: "Messages in #general" }).getByRole("listitem").filter({ hasText: "Here are the files" });
  const img = item.getByRole("img", { name: "pixel.png" });
  await expect(img).toBeVisible({ timeout: 3_000 });
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.naturalWidth), { timeout: 3_000 }).toBe(1);
  const downloading = b.waitForEvent("download");
  await item.getByRole("link", { name: /notes\.txt/ }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("notes.txt");
  expect((await readFile(await download.path())).toString()).toBe("meeting notes");

  // A bigger file over a slow connection shows its progress while it goes.
  const cdp = await a.context().newCDPSession(a);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 20,
    downloadThroughput: -1,
    uploadThroughput: 256 * 1024,
  });
  await a.locator("#composer-file").setInputFiles({ name: "archive.zip", mimeType: "application/zip", buffer: Buffer.alloc(1024 * 1024, 7) });
  await box.fill("the archive");
  await box.press("Enter");
  await expect(a.getByRole("progressbar", { name: "Upload progress" })).toBeVisible();
  await expect(a.getByRole("progressbar", { name: "Upload progress" })).toHaveCount(0, { timeout: 15_000 });
  await expect(item.page().getByRole("log", { name: "Messages in #general" })).toContainText("the archive", { timeout: 5_000 });
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  // A forbidden file type is refused with the reason.
  await a.locator("#composer-file").setInputFiles({ name: "tool.exe", mimeType: "application/octet-stream", buffer: Buffer.from("MZ") });
  await box.fill("this should not go");
  await box.press("Enter");
  await expect(a.getByRole("alert")).toContainText("allowed file types are");
  await close();
});

test("direct messages: unread badges, read receipts and mention autocomplete", async ({ browser }) => {
  const { a, b, bob, close } = await twoPeople(browser, "Talkers");

  // Ana opens a conversation with Bob.
  await a.getByText("+ New message").click();
  await a.getByLabel("To (usernames, up to 7)").fill(bob);
  await a.getByRole("button", { name: "Open conversation" }).click();
  await expect(a.getByRole("heading", { level: 1, name: "Bob" })).toBeVisible();
  await expect(a.locator("html")).toHaveAttribute("data-live", "connected", { timeout: 10_000 });
  const dmBox = a.getByRole("textbox", { name: "Message Bob" });
  await dmBox.fill("Are you free later?");
  await dmBox.press("Enter");

  // Bob, still in #general, sees the conversation appear with a badge.
  const dms = b.getByRole("list", { name: "Direct messages" });
  const entry = dms.getByRole("link", { name: /Ana, 1 mention/ });
  await expect(entry).toBeVisible({ timeout: 3_000 });
  await entry.click();
  await expectMessage(b, "Ana", "Are you free later?");
  // Ana sees that Bob read it.
  await expect(a.locator(".receipt")).toHaveText("Seen by Bob", { timeout: 3_000 });
  // Bob's presence shows in the conversation: online, then away once his page is hidden.
  await expect(a.locator(".dm-presence")).toHaveText("Bob is online");
  await b.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await expect(a.locator(".dm-presence")).toHaveText("Bob is away", { timeout: 3_000 });
  await b.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await expect(a.locator(".dm-presence")).toHaveText("Bob is online", { timeout: 3_000 });

  // Bob mentions Ana in #general by picking her from the suggestions.
  await b.getByRole("link", { name: /general/ }).click();
  await expect(b.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await expect(b.locator("html")).toHaveAttribute("data-live", "connected", { timeout: 10_000 });
  const box = b.getByRole("textbox", { name: "Message #general" });
  await box.pressSequentially("lunch? @an");
  const options = b.getByRole("listbox", { name: "People to mention" });
  await expect(options.getByRole("option", { name: /@ana/ })).toBeVisible();
  await box.press("Enter");
  await expect(box).toHaveValue(/^lunch\? @ana\S* $/);
  await box.press("Enter");
  // Ana, in the DM, sees #general marked with a mention.
  await expect(a.getByRole("list", { name: "Channels" }).getByRole("link", { name: /general, 1 mention/ })).toBeVisible({
    timeout: 3_000,
  });
  await close();
});
