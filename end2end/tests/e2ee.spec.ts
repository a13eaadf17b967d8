// End-to-end encrypted direct conversations in the browser: each person's
// browser makes its keys, encrypts what they send and decrypts what they
// read; the server keeps only ciphertext.
import { expect, test } from "./support/test";
import { PIXEL, createChannel, inviteLink, send, signIn, signUp, twoPeople, unique } from "./support/actions";
import { pushesTo, type Push } from "./support/push";
import { site } from "./support/website";
import { chromium, type Browser, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Making keys loads the cryptography's WebAssembly first, and the other
// person's device adds this one when its page learns of it.
const KEYS = { timeout: 20_000 };

/** Waits for this browser's keys to be ready for the conversation on screen. */
async function expectKeysReady(page: Page) {
  await expect(page.locator(".keys-panel")).toHaveAttribute("data-keys", /^(ready|new-recovery-key)$/, KEYS);
}

/** The recovery key shown once when a browser makes a person's keys; dismissed after reading. */
async function takeRecoveryKey(page: Page): Promise<string> {
  const dialog = page.getByRole("alertdialog", { name: "Your recovery key" });
  await expect(dialog).toBeVisible(KEYS);
  const key = (await dialog.locator(".recovery-key-text").textContent())?.trim() ?? "";
  expect(key).toMatch(/^[0-9A-Z]{4}( [0-9A-Z]{4}){12}$/);
  await dialog.getByRole("button", { name: "I have saved it" }).click();
  await expect(dialog).toBeHidden();
  return key;
}

/** A message in the conversation on screen, as decrypted there. */
function decrypted(page: Page, text: string) {
  return page.locator("li.message").filter({ has: page.locator('[data-state="decrypted"]', { hasText: text }) });
}

/** Opens the direct conversation with `username` (named `name`) and makes it end-to-end encrypted. */
async function encryptConversationWith(page: Page, username: string, name: string) {
  await page.getByText("+ New message").click();
  await page.getByLabel("To (usernames, up to 7)").fill(username);
  await page.getByRole("button", { name: "Open conversation" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await page.getByText("🔒 Encrypt end to end").click();
  await page.getByRole("button", { name: "Encrypt this conversation" }).click();
}

/** Ana and Bob in a direct conversation that Ana made end-to-end encrypted; both browsers hold keys. */
async function encryptedDm(browser: Browser) {
  const people = await twoPeople(browser, "Whisperers");
  const { a, b, bob } = people;
  await encryptConversationWith(a, bob, "Bob");
  const anaKey = await takeRecoveryKey(a);
  await expect(a.locator(".e2ee-note")).toContainText("End-to-end encrypted");
  await expectKeysReady(a);
  const dm = a.url();

  await b.goto(dm);
  await expect(b.getByRole("heading", { level: 1, name: "Ana" })).toBeVisible();
  const bobKey = await takeRecoveryKey(b);
  await expectKeysReady(b);
  // Bob's device started the conversation's keys with Ana's in them: she is welcomed.
  await expect(b.locator(".keys-panel")).toHaveAttribute("data-joined", "true", KEYS);
  await expect(a.locator(".keys-panel")).toHaveAttribute("data-joined", "true", KEYS);
  await expect(a.locator("html")).toHaveAttribute("data-live", "connected", KEYS);
  await expect(b.locator("html")).toHaveAttribute("data-live", "connected", KEYS);
  return { ...people, dm, anaKey, bobKey };
}

/** Clears this browser's keys (as when its site data is cleared), then opens `dm` again. */
async function wipeKeys(page: Page, dm: string) {
  await page.getByRole("link", { name: /general/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const request = indexedDB.deleteDatabase("parley-e2ee");
        // A key operation still running holds the database open: the
        // deletion is then "blocked" until it ends and closes it (each
        // operation does), and succeeds after.
        request.onsuccess = () => resolve(null);
        request.onerror = () => reject(request.error);
      }),
  );
  await page.goto(dm);
  await expect(page.locator(".keys-panel")).toHaveAttribute("data-keys", "needs-recovery-key", KEYS);
}

/** The safety number shown to `page` for the other person of its direct conversation. */
async function safetyNumber(page: Page, name: string): Promise<string> {
  await page.getByText(`Verify ${name}'s keys`).click();
  const digits = page.locator(".safety-digits");
  await expect(digits).toHaveText(/^\d{5}( \d{5}){11}$/, KEYS);
  return (await digits.textContent()) ?? "";
}

/** Every file under `dir`, read whole. */
async function filesUnder(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(await readFile(path));
  }
  return out;
}

async function serverHolds(text: string): Promise<boolean> {
  const dir = process.env.PARLEY_E2E_DATA_DIR;
  if (!dir) throw new Error("playwright.config.ts sets PARLEY_E2E_DATA_DIR");
  return (await filesUnder(dir)).some((bytes) => bytes.includes(Buffer.from(text)));
}

test("an encrypted direct conversation is read on both sides while the server holds no plaintext of it", async ({
  browser,
}) => {
  const { a, b, dm, close } = await encryptedDm(browser);
  const plain = unique("plainmarker");
  const fromBob = unique("bobsecret");
  const fromAna = unique("anasecret");

  await b.getByRole("textbox", { name: "Message Ana" }).fill(`The door code is **${fromBob}**`);
  await b.getByRole("textbox", { name: "Message Ana" }).press("Enter");
  await expect(decrypted(b, fromBob)).toBeVisible(KEYS);
  await expect(decrypted(a, fromBob)).toBeVisible(KEYS);
  // Markdown is rendered in the browser.
  await expect(decrypted(a, fromBob).locator("strong")).toHaveText(fromBob);

  await a.getByRole("textbox", { name: "Message Bob" }).fill(`Noted: ${fromAna}`);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, fromAna)).toBeVisible(KEYS);

  // Both see the same safety number.
  expect(await safetyNumber(a, "Bob")).toBe(await safetyNumber(b, "Ana"));

  // A second tab of Ana's reads the conversation too, sharing her keys.
  const second = await a.context().newPage();
  await second.goto(dm);
  await expect(decrypted(second, fromBob)).toBeVisible(KEYS);
  await expect(decrypted(second, fromAna)).toBeVisible(KEYS);
  // And after a reload, what was read is still shown.
  await b.reload();
  await expect(decrypted(b, fromBob)).toBeVisible(KEYS);
  await expect(decrypted(b, fromAna)).toBeVisible(KEYS);

  // A plain message elsewhere is in the server's files; the encrypted ones are not.
  await a.getByRole("link", { name: /general/ }).click();
  await send(a, plain);
  await expect(a.getByRole("log", { name: "Messages in #general" })).toContainText(plain);
  await expect.poll(() => serverHolds(plain), { timeout: 10_000 }).toBe(true);
  expect(await serverHolds(fromBob)).toBe(false);
  expect(await serverHolds(fromAna)).toBe(false);
  await close();
});

test("without JavaScript an encrypted conversation says how to read it, and plain text is refused", async ({
  browser,
}) => {
  const { a, bob, dm, close } = await encryptedDm(browser);
  const secret = unique("nojssecret");
  await a.getByRole("textbox", { name: "Message Bob" }).fill(secret);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(a, secret)).toBeVisible(KEYS);

  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, bob);
  await page.goto(dm);
  const message = page.locator("li.message").last();
  await expect(message).toContainText("Turn JavaScript on, on a device that takes part in this conversation");
  await expect(message).not.toContainText(secret);
  await page.getByRole("textbox", { name: "Message Ana" }).fill("sent without encryption");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByText(/This conversation is end-to-end encrypted: send from a device that has its keys/)).toBeVisible();
  await context.close();
  await close();
});

test("without JavaScript the history shared with people added is turned on and off from the conversation's header", async ({
  browser,
}) => {
  const { bob, dm, close } = await encryptedDm(browser);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, bob);
  await page.goto(dm);
  const sharing = page.locator(".history-sharing");
  await expect(sharing).toHaveAttribute("data-shares", "false");
  await sharing.getByRole("button", { name: "Share history with people added" }).click();
  await expect(sharing).toHaveAttribute("data-shares", "true");
  await expect(sharing).toContainText("People added later read up to the latest 100 messages");
  await sharing.getByRole("button", { name: "Stop sharing history" }).click();
  await expect(sharing).toHaveAttribute("data-shares", "false");
  await expect(sharing).toContainText("People added later read from the moment they join.");
  await context.close();
  await close();
});

test("after this browser's data is cleared the recovery key brings the keys back, with what was sent and received, and a wrong key is refused", async ({
  browser,
}) => {
  const { a, b, dm, anaKey, bobKey, close } = await encryptedDm(browser);
  const before = unique("beforewipe");
  const after = unique("afterwipe");
  const own = unique("bobsown");
  await a.getByRole("textbox", { name: "Message Bob" }).fill(before);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, before)).toBeVisible(KEYS);
  await b.getByRole("textbox", { name: "Message Ana" }).fill(own);
  await b.getByRole("textbox", { name: "Message Ana" }).press("Enter");
  await expect(decrypted(a, own)).toBeVisible(KEYS);

  await wipeKeys(b, dm);
  await expect(b.locator("li.message").last()).toContainText("Unable to decrypt: this browser has no keys yet");

  // Ana's recovery key is a real one, but not Bob's.
  const input = b.getByLabel("Recovery key");
  await input.fill(anaKey);
  await b.getByRole("button", { name: "Restore keys" }).click();
  await expect(b.getByRole("alert")).toContainText("That is not your recovery key");
  await expect(input).toHaveAttribute("aria-invalid", "true");

  await input.fill(bobKey.toLowerCase());
  await b.getByRole("button", { name: "Restore keys" }).click();
  await expect(b.locator(".keys-panel")).toHaveAttribute("data-keys", "ready", KEYS);
  // What Ana sent before is read again with the keys from the backup, and
  // what Bob sent with its copy for him (sealed with his recovery key).
  await expect(decrypted(b, before)).toBeVisible(KEYS);
  await expect(decrypted(b, own)).toBeVisible(KEYS);

  // Ana's device adds Bob's new one; what she sends now reaches it.
  await a.getByRole("textbox", { name: "Message Bob" }).fill(after);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, after)).toBeVisible(KEYS);
  await close();
});

test("an encrypted message is edited in the browser, and the other person reads the new text", async ({ browser }) => {
  const { a, b, close } = await encryptedDm(browser);
  const first = unique("firstdraft");
  const second = unique("seconddraft");
  await a.getByRole("textbox", { name: "Message Bob" }).fill(first);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, first)).toBeVisible(KEYS);

  // The edit box starts from the text as this browser reads it.
  const mine = decrypted(a, first);
  await mine.hover();
  await mine.getByText("Edit", { exact: true }).click();
  const box = mine.getByLabel("New text");
  await expect(box).toHaveValue(first, KEYS);
  await box.fill(`_${second}_`);
  await mine.getByRole("button", { name: "Save" }).click();

  await expect(decrypted(a, second)).toContainText("(edited)", KEYS);
  await expect(decrypted(b, second)).toContainText("(edited)", KEYS);
  await expect(decrypted(b, second).locator("em")).toHaveText(second);
  await expect(decrypted(b, first)).toHaveCount(0);
  // The sender cannot decrypt its own message: it keeps what it wrote, after a reload too.
  await a.reload();
  await expect(decrypted(a, second)).toBeVisible(KEYS);
  expect(await serverHolds(second)).toBe(false);
  await close();
});

test("an encrypted file is downloaded and opened by the other person, and a picture is shown", async ({ browser }) => {
  const { a, b, close } = await encryptedDm(browser);
  const secret = unique("ledgerline");
  const name = `${unique("ledger")}.csv`;
  await a.locator("#composer-file").setInputFiles([
    { name, mimeType: "text/csv", buffer: Buffer.from(`account,amount\n${secret},42\n`) },
    { name: "pixel.png", mimeType: "image/png", buffer: PIXEL },
  ]);
  await expect(a.getByRole("list", { name: "Files to send" })).toContainText(name);
  const caption = unique("figures");
  await a.getByRole("textbox", { name: "Message Bob" }).fill(caption);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(a.getByRole("list", { name: "Files to send" })).toHaveCount(0, KEYS);

  // Bob's browser reads the message, shows the picture, and opens the file when asked.
  const item = decrypted(b, caption);
  await expect(item).toBeVisible(KEYS);
  const files = item.getByRole("list", { name: "Encrypted files" });
  const img = files.getByRole("img", { name: "pixel.png" });
  await expect(img).toBeVisible(KEYS);
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.naturalWidth), KEYS).toBe(1);
  const downloading = b.waitForEvent("download");
  await files.getByRole("button", { name: new RegExp(`Download ${name.replace(".", "\\.")}`) }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(name);
  expect((await readFile(await download.path())).toString()).toBe(`account,amount\n${secret},42\n`);
  // Ana's browser lists what it sent, after a reload too.
  await a.reload();
  await expect(decrypted(a, caption).getByRole("list", { name: "Encrypted files" })).toContainText(name, KEYS);

  // The server kept neither the file's name nor its content.
  expect(await serverHolds(name)).toBe(false);
  expect(await serverHolds(secret)).toBe(false);
  await close();
});

test("an encrypted message edited in the browser keeps its files", async ({ browser }) => {
  const { a, b, close } = await encryptedDm(browser);
  const name = `${unique("minutes")}.txt`;
  await a.locator("#composer-file").setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from("kept") });
  const first = unique("withfile");
  await a.getByRole("textbox", { name: "Message Bob" }).fill(first);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, first).getByRole("list", { name: "Encrypted files" })).toContainText(name, KEYS);

  const mine = decrypted(a, first);
  await mine.hover();
  await mine.getByText("Edit", { exact: true }).click();
  await expect(mine.getByLabel("New text")).toHaveValue(first, KEYS);
  const second = unique("stillwithfile");
  await mine.getByLabel("New text").fill(second);
  await mine.getByRole("button", { name: "Save" }).click();

  const edited = decrypted(b, second);
  await expect(edited).toContainText("(edited)", KEYS);
  const downloading = b.waitForEvent("download");
  await edited.getByRole("button", { name: new RegExp(`Download ${name.replace(".", "\\.")}`) }).click();
  expect((await readFile(await (await downloading).path())).toString()).toBe("kept");
  await close();
});

test("a damaged encrypted message shows why it cannot be read", async ({ browser }) => {
  const { a, b, close } = await encryptedDm(browser);
  const devices = await b.request.get("/api/communication/devices/");
  expect(devices.ok()).toBe(true);
  const [device] = (await devices.json()) as { id: string }[];
  const channelId = new URL(a.url()).pathname.split("/").filter(Boolean).pop();
  const posted = await b.request.post("/api/communication/messages/", {
    data: { channel_id: channelId, encrypted: { ciphertext: Buffer.from("not a message").toString("base64"), device_id: device.id } },
  });
  expect(posted.status()).toBe(201);
  await expect(a.locator("li.message").last().locator('[data-state="undecryptable"]')).toContainText(
    "Unable to decrypt: the message is damaged or not readable",
    KEYS,
  );
  await close();
});

test("a person who resets their keys is shown to the others as changed, with a new safety number", async ({
  browser,
}) => {
  const { a, b, dm, close } = await encryptedDm(browser);
  const before = await safetyNumber(a, "Bob");
  await wipeKeys(b, dm);
  await b.getByText("I lost my recovery key").click();
  await b.getByRole("button", { name: "Reset my keys" }).click();
  await takeRecoveryKey(b);
  await expect(a.locator(".keys-changed")).toContainText("Bob's keys changed", KEYS);

  // Ana's device adds Bob's new one: they talk on.
  const after = unique("afterreset");
  await expect(b.locator(".keys-panel")).toHaveAttribute("data-keys", "ready", KEYS);
  await expect(b.locator(".keys-panel")).toHaveAttribute("data-joined", "true", KEYS);
  await a.getByRole("textbox", { name: "Message Bob" }).fill(after);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, after)).toBeVisible(KEYS);
  await a.reload();
  expect(await safetyNumber(a, "Bob")).not.toBe(before);
  await close();
});

/** A camera's video (Y4M, as Chromium's fake camera plays it) filming the picture `png`, large and centred. */
async function filming(png: Buffer): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "parley-camera-"));
  await writeFile(join(dir, "code.png"), png);
  const video = join(dir, "camera.y4m");
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-loop", "1", "-i", join(dir, "code.png"), "-t", "2", "-r", "10",
    "-vf", "scale=440:440:flags=neighbor,pad=640:480:100:20:white,format=yuv420p", video]);
  return video;
}

test("scanning the other person's safety code with the camera says that it matches", async ({ browser, baseURL }, testInfo) => {
  const { a, bob, dm, bobKey, close } = await encryptedDm(browser);
  await a.getByText("Verify Bob's keys").click();
  const code = a.getByRole("img", { name: "Your safety code, for Bob to scan" });
  await expect(code).toBeVisible(KEYS);
  const camera = await filming(await code.screenshot());

  // Bob, on another device whose camera sees Ana's screen.
  const launch = testInfo.project.use.launchOptions ?? {};
  const phone = await chromium.launch({
    ...launch,
    args: [...(launch.args ?? []), `--use-file-for-fake-video-capture=${camera}`],
  });
  const page = await (await phone.newContext({ baseURL })).newPage();
  await signIn(page, bob);
  await page.goto(dm);
  await expect(page.locator(".keys-panel")).toHaveAttribute("data-keys", "needs-recovery-key", KEYS);
  await page.getByLabel("Recovery key").fill(bobKey);
  await page.getByRole("button", { name: "Restore keys" }).click();
  await expect(page.locator(".keys-panel")).toHaveAttribute("data-keys", "ready", KEYS);
  await page.getByText("Verify Ana's keys").click();
  await page.getByRole("button", { name: "Scan their code" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Ana's code matches" })).toBeVisible(KEYS);
  await expect(page.getByRole("button", { name: "Stop scanning" })).toHaveCount(0);
  await phone.close();
  await close();
});

test("where the workspace's admins require it, a new direct conversation is encrypted from the start", async ({
  browser,
}) => {
  const { a, bob, close } = await twoPeople(browser, "Guarded");
  const ws = new URL(a.url()).pathname.split("/")[2];
  await a.goto(`/w/${ws}/settings`);
  await a.getByRole("button", { name: "Require encryption for direct conversations" }).click();
  await expect(a.locator("#encryption-status")).toContainText("Required: every direct conversation opened from now on");

  await a.goto(`/w/${ws}`);
  await a.getByText("+ New message").click();
  await a.getByLabel("To (usernames, up to 7)").fill(bob);
  await a.getByRole("button", { name: "Open conversation" }).click();
  await expect(a.getByRole("heading", { level: 1, name: "Bob" })).toBeVisible();
  await expect(a.locator(".e2ee-note")).toContainText("End-to-end encrypted");
  await expect(a.getByText("🔒 Encrypt end to end")).toHaveCount(0);
  await takeRecoveryKey(a);
  await close();
});

/** The search page for `q` in the workspace of `dm`. */
function searchPage(dm: string, q: string): string {
  const ws = new URL(dm).pathname.split("/")[2];
  return `/w/${ws}/search?q=${encodeURIComponent(q)}`;
}

/** What this browser keeps for search, as IndexedDB holds it. */
async function keptForSearch(page: Page): Promise<string[]> {
  return page.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const open = indexedDB.open("parley-e2ee");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const all = db.transaction("read").objectStore("read").getAll(IDBKeyRange.bound("", "\uffff"));
          const keys = db.transaction("read").objectStore("read").getAllKeys();
          let values: string[] = [];
          all.onsuccess = () => (values = all.result as string[]);
          keys.onsuccess = () => {
            const names = keys.result as string[];
            db.close();
            resolve(names.flatMap((k, i) => (/:search:/.test(k) ? [values[i] ?? ""] : [])));
          };
        };
      }),
  );
}

test("search finds an encrypted message in the browser where it is turned on, and the page says where it looked", async ({
  browser,
}) => {
  const { a, b, dm, close } = await encryptedDm(browser);
  const word = unique("zebrafigures");

  // Off at first: the page says the encrypted conversations were not searched.
  await b.goto(searchPage(dm, word));
  const section = b.locator(".encrypted-search");
  await expect(section).toHaveAttribute("data-state", "off");
  await expect(section).toContainText("Not searched: search of encrypted conversations is off in this browser");
  await section.getByRole("button", { name: "Search encrypted conversations in this browser" }).click();
  await expect(section).toHaveAttribute("data-state", "found", KEYS);
  await expect(section).toContainText("No encrypted messages here match.");

  // Ana writes; Bob's browser shows the message, and so keeps it for search.
  await b.goto(dm);
  await expectKeysReady(b);
  await a.getByRole("textbox", { name: "Message Bob" }).fill(`The ${word} are in the report`);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, word)).toBeVisible(KEYS);

  // The beginning of a word finds it; the server's own search found nothing.
  await b.goto(searchPage(dm, word.slice(0, 9)));
  await expect(section).toHaveAttribute("data-state", "found", KEYS);
  await expect(b.locator("p.empty").first()).toContainText("No messages match");
  const hit = section.locator("li").filter({ hasText: word });
  await expect(hit).toHaveCount(1);
  await expect(hit.locator(".author")).toHaveText("Ana");
  await expect(hit.locator(".channel")).toHaveText("Ana");
  await expect(section).toContainText(/Searched in this browser: [1-9]\d* encrypted messages?/);
  // Kept encrypted: no entry holds the text.
  const kept = await keptForSearch(b);
  expect(kept.length).toBeGreaterThan(0);
  expect(kept.some((v) => v.includes(word))).toBe(false);

  await hit.getByRole("link", { name: "Open in conversation" }).click();
  await expect(decrypted(b, word)).toBeVisible(KEYS);

  // Ana's browser has not turned it on: off there, and nothing kept.
  await a.goto(searchPage(dm, word));
  await expect(a.locator(".encrypted-search")).toHaveAttribute("data-state", "off");
  expect(await keptForSearch(a)).toEqual([]);
  await close();
});

test("a message deleted while its encrypted conversation is open leaves this browser's search", async ({ browser }) => {
  const { a, b, dm, close } = await encryptedDm(browser);
  const word = unique("walrusnotes");
  await b.goto(searchPage(dm, word));
  await b.getByRole("button", { name: "Search encrypted conversations in this browser" }).click();
  await expect(b.locator(".encrypted-search")).toHaveAttribute("data-state", "found", KEYS);
  await b.goto(dm);
  await a.getByRole("textbox", { name: "Message Bob" }).fill(`${word} to forget`);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, word)).toBeVisible(KEYS);

  const mine = decrypted(a, word);
  await mine.hover();
  await mine.getByRole("button", { name: "Delete message" }).click();
  await expect(decrypted(b, word)).toHaveCount(0, KEYS);

  // Searched from another tab while the conversation stays open (its page
  // forgets the message under the keys' lock, which the search then waits for).
  const search = await b.context().newPage();
  await search.goto(searchPage(dm, word));
  const section = search.locator(".encrypted-search");
  await expect(section).toHaveAttribute("data-state", "found", KEYS);
  await expect(section).toContainText("No encrypted messages here match.");
  await close();
});

test("a message deleted while its encrypted conversation is not open leaves this browser's search when found", async ({
  browser,
}) => {
  const { a, b, dm, close } = await encryptedDm(browser);
  const word = unique("narwhalplans");
  await b.goto(searchPage(dm, word));
  await b.getByRole("button", { name: "Search encrypted conversations in this browser" }).click();
  await expect(b.locator(".encrypted-search")).toHaveAttribute("data-state", "found", KEYS);
  await b.goto(dm);
  await a.getByRole("textbox", { name: "Message Bob" }).fill(`${word} kept`);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await a.getByRole("textbox", { name: "Message Bob" }).fill(`${word} deleted`);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, `${word} deleted`)).toBeVisible(KEYS);
  await expect(decrypted(b, `${word} kept`)).toBeVisible();

  // Bob leaves the conversation; Ana deletes one of the two meanwhile.
  await b.goto(searchPage(dm, "nothing"));
  const mine = decrypted(a, `${word} deleted`);
  await mine.hover();
  await mine.getByRole("button", { name: "Delete message" }).click();
  await expect(mine).toHaveCount(0, KEYS);

  await b.goto(searchPage(dm, word));
  const section = b.locator(".encrypted-search");
  await expect(section).toHaveAttribute("data-state", "found", KEYS);
  await expect(section.locator("li")).toHaveCount(1);
  await expect(section.locator("li")).toContainText(`${word} kept`);
  // And it is gone from what this browser keeps, not only from the list.
  await expect(section).toContainText(/Searched in this browser: 1 encrypted message\b/);
  await close();
});

/** Sends `text` from `page` in its encrypted conversation; the message's id, as the server stored it. */
async function sendEncrypted(page: Page, to: string, text: string): Promise<string> {
  const posted = page.waitForResponse(
    (r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/api/communication/messages/",
  );
  await page.getByRole("textbox", { name: `Message ${to}` }).fill(text);
  await page.getByRole("textbox", { name: `Message ${to}` }).press("Enter");
  const response = await posted;
  expect(response.status()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

test("a tab and the service worker decrypt a pushed message at the same time, and the push shows its text", async ({
  browser,
  baseURL,
}) => {
  const { a, b, dm, close } = await encryptedDm(browser);
  await b.context().grantPermissions(["notifications"]);
  const { deliver, shown } = await pushesTo(b, baseURL!);
  const me = (await b.evaluate(() => fetch("/api/auth/me").then((r) => r.json()))) as { id: string };
  const channel = new URL(dm).pathname.split("/")[4];
  // As the server sends it: the title, words for a browser that cannot
  // decrypt, and the message's ids.
  const pushAbout = (message: string): Push => ({
    title: "Ana sent you a message",
    body: "Open it in Parley to read it: this conversation is end-to-end encrypted.",
    url: new URL(dm).pathname,
    tag: `ch:${channel}`,
    count: 1,
    id: message,
    encrypted: { user_id: me.id, channel_id: channel, message_id: message },
  });
  const notified = async () => (await shown()).map((n) => n.body);

  // Bob's tab shows the conversation: it decrypts the message as it
  // arrives, and the push reaches his service worker at the same moment.
  const first = unique("bothread");
  await deliver(pushAbout(await sendEncrypted(a, "Bob", `${first} at once`)));
  await expect(decrypted(b, first)).toBeVisible(KEYS);
  await expect.poll(notified, KEYS).toEqual([`${first} at once`]);

  // The service worker first, the tab later: the tab shows what the
  // worker read (a message is decrypted once, on one device).
  await b.getByRole("link", { name: /general/ }).click();
  await expect(b.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  const second = unique("workerfirst");
  await deliver(pushAbout(await sendEncrypted(a, "Bob", `**${second}** later`)));
  await expect.poll(notified, KEYS).toEqual([`**${second}** later`]);
  await b.goto(dm);
  await expect(decrypted(b, second)).toBeVisible(KEYS);
  await expect(decrypted(b, first)).toBeVisible();

  // Neither undid the other's step: what follows reads in both.
  const third = unique("afterboth");
  const id = await sendEncrypted(a, "Bob", third);
  await expect(decrypted(b, third)).toBeVisible(KEYS);
  await deliver(pushAbout(id));
  await expect.poll(notified, KEYS).toEqual([third]);
  await close();
});

test("a push the service worker cannot decrypt keeps the server's words, and shows no blank", async ({ browser, baseURL }) => {
  const { a, b, dm, close } = await encryptedDm(browser);
  await b.context().grantPermissions(["notifications"]);
  const { deliver, shown } = await pushesTo(b, baseURL!);
  const me = (await b.evaluate(() => fetch("/api/auth/me").then((r) => r.json()))) as { id: string };
  const channel = new URL(dm).pathname.split("/")[4];
  // A message that no longer exists (deleted before the push arrived).
  const text = unique("gonebefore");
  const id = await sendEncrypted(a, "Bob", text);
  await expect(decrypted(b, text)).toBeVisible(KEYS);
  const mine = decrypted(a, text);
  await mine.hover();
  await mine.getByRole("button", { name: "Delete message" }).click();
  await expect(decrypted(b, text)).toHaveCount(0, KEYS);
  const words = "Open it in Parley to read it: this conversation is end-to-end encrypted.";
  await deliver({
    title: "Ana sent you a message",
    body: words,
    url: new URL(dm).pathname,
    tag: `ch:${channel}`,
    count: 1,
    id,
    encrypted: { user_id: me.id, channel_id: channel, message_id: id },
  });
  await expect.poll(async () => (await shown()).map((n) => n.body), KEYS).toEqual([words]);
  await close();
});

test("a link in an encrypted message shows the preview its sender's browser made, and the server keeps none of it", async ({
  browser,
}) => {
  const harbour = await site();
  const { a, b, close } = await encryptedDm(browser);
  const word = unique("tidecheck");
  await a.getByRole("textbox", { name: "Message Bob" }).fill(`${word}: ${harbour.url}`);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, word)).toBeVisible(KEYS);

  for (const page of [b, a]) {
    const preview = page.getByRole("group", { name: `Preview of ${harbour.url}` });
    await expect(preview.getByRole("link", { name: "Tide tables for the bay" })).toHaveAttribute("href", harbour.url);
    await expect(preview).toContainText("Harbour Office");
    await expect(preview).toContainText("High water at 06:12 and 18:40.");
    // Text only: no image is fetched for it, by Parley or by the reader.
    await expect(preview.locator("img")).toHaveCount(0);
  }
  expect(harbour.imageRequests()).toBe(0);
  // The preview travels inside the encryption: the server's files hold none of it.
  expect(await serverHolds("Tide tables for the bay")).toBe(false);
  // And it is still there when the page is loaded again (kept in this browser).
  await b.reload();
  await expect(b.getByRole("group", { name: `Preview of ${harbour.url}` })).toContainText("Harbour Office", KEYS);
  await close();
  await harbour.close();
});

test("a mention in an encrypted message tells the person mentioned, whose bell says so", async ({ browser }) => {
  const { a, b, bob, close } = await encryptedDm(browser);
  const word = unique("ledger");
  // The server cannot read who is mentioned: Ana's browser tells it.
  const posted = a.waitForRequest(
    (r) => r.method() === "POST" && new URL(r.url()).pathname === "/api/communication/messages/",
  );
  await a.getByRole("textbox", { name: "Message Bob" }).fill(`@${bob} can you check the ${word}?`);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  const sent = (await posted).postDataJSON() as { encrypted: { mentions?: string[]; ciphertext: string } };
  expect(sent.encrypted.mentions).toEqual([bob]);
  expect(sent.encrypted.ciphertext).not.toContain(word);
  await expect(decrypted(b, word)).toBeVisible(KEYS);

  const bell = b.locator("details.bell > summary");
  await expect(bell).toHaveAttribute("aria-label", "Notifications, 1 unread");
  await bell.click();
  const item = b.getByRole("region", { name: "Notifications" }).getByRole("link", { name: /Ana mentioned you/ });
  await expect(item).toBeVisible();
  await expect(item).not.toContainText(word);
  await close();
});

test("an encrypted file of a type the server does not take is refused in the sender's browser, before anything is sent", async ({
  browser,
}) => {
  const { a, close } = await encryptedDm(browser);
  let posted = 0;
  a.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === "/api/communication/messages/") posted += 1;
  });
  const box = a.getByRole("textbox", { name: "Message Bob" });
  await a.locator("#composer-file").setInputFiles({ name: "tool.exe", mimeType: "application/octet-stream", buffer: Buffer.from("MZ") });
  await box.fill("this should not go");
  await box.press("Enter");
  // The server cannot see an encrypted file's name: Ana's browser applies its rule, in its words.
  await expect(a.getByRole("alert")).toContainText("“tool.exe” cannot be uploaded: allowed file types are jpg,");
  await expect(box).toHaveValue("this should not go");
  expect(posted).toBe(0);
  await close();
});

test("search turned on in a browser finds what it showed before, without the conversation opened again", async ({
  browser,
}) => {
  const { a, b, dm, close } = await encryptedDm(browser);
  const word = unique("otterledger");
  await a.getByRole("textbox", { name: "Message Bob" }).fill(`The ${word} is settled`);
  await a.getByRole("textbox", { name: "Message Bob" }).press("Enter");
  await expect(decrypted(b, word)).toBeVisible(KEYS);
  const own = unique("heronreply");
  await b.getByRole("textbox", { name: "Message Ana" }).fill(`Thanks, ${own}`);
  await b.getByRole("textbox", { name: "Message Ana" }).press("Enter");
  await expect(decrypted(a, own)).toBeVisible(KEYS);

  // Search was off while Bob read and wrote; he turns it on on the search page.
  await b.goto(searchPage(dm, word));
  const section = b.locator(".encrypted-search");
  await expect(section).toHaveAttribute("data-state", "off");
  await section.getByRole("button", { name: "Search encrypted conversations in this browser" }).click();
  await expect(section).toHaveAttribute("data-state", "found", KEYS);
  await expect(section.locator("li").filter({ hasText: word })).toHaveCount(1);
  await expect(section).toContainText(/Searched in this browser: 2 encrypted messages/);
  // What he sent himself is found too.
  await b.goto(searchPage(dm, own));
  await expect(section).toHaveAttribute("data-state", "found", KEYS);
  await expect(section.locator("li").filter({ hasText: own }).locator(".author")).toHaveText("Bob");
  await close();
});

test("an archiving member named by the admins reads an encrypted conversation once its members agree", async ({
  browser,
}) => {
  const { a, b, bob, close } = await twoPeople(browser, "Archived");
  const ws = new URL(a.url()).pathname.split("/")[2];
  const link = await inviteLink(a);
  const archiveContext = await browser.newContext();
  const c = await archiveContext.newPage();
  const arc = unique("arc");
  await c.goto(link);
  await c.getByRole("link", { name: "Create an account to join" }).click();
  await signUp(c, arc, "Archive", "");
  await c.getByRole("button", { name: "Join as Archive" }).click();
  await expect(c.getByRole("heading", { level: 1, name: "general" })).toBeVisible();

  await a.goto(`/w/${ws}/settings`);
  await a.getByRole("textbox", { name: "Archiving member" }).fill(`@${arc}`);
  await a.getByRole("button", { name: "Name archiving member" }).click();
  await expect(a.locator("#archive-status")).toContainText(`Archived by @${arc}`);

  // Ana encrypts her conversation with Bob: the archive is among its members, and says so.
  await a.goto(`/w/${ws}`);
  await encryptConversationWith(a, bob, "Bob");
  await takeRecoveryKey(a);
  await expectKeysReady(a);
  const dm = a.url();
  await expect(a.locator(".archive-note")).toContainText(`@${arc} (Archive) is a member of every encrypted conversation`);

  // The archive's own browser makes its keys there and is given the conversation's.
  await c.goto(dm);
  await takeRecoveryKey(c);
  await expectKeysReady(c);
  await expect(c.locator(".archive-note")).toHaveAttribute("data-consented", "true");
  await b.goto(dm);
  await takeRecoveryKey(b);
  await expectKeysReady(b);
  for (const page of [a, b, c]) await expect(page.locator(".keys-panel")).toHaveAttribute("data-joined", "true", KEYS);

  // Bob reads, but sends only once he agrees.
  // The conversation names its members, the archive among them.
  const box = b.getByRole("textbox", { name: /^Message Ana/ });
  await expect(box).toHaveAccessibleName(/Archive/);
  const note = b.locator(".archive-note");
  await expect(note).toHaveAttribute("data-consented", "false");
  await box.fill("the board meets at nine");
  await box.press("Enter");
  await expect(b.locator("#composer-error")).toContainText("Agree to that in the conversation to send here");
  await note.getByRole("button", { name: "Agree and continue" }).click();
  await expect(note).toHaveAttribute("data-consented", "true");
  await expectKeysReady(b);
  // The text refused was kept in the box: sent now.
  await expect(box).toHaveValue("the board meets at nine");
  await box.press("Enter");
  await expect(decrypted(c, "the board meets at nine")).toBeVisible(KEYS);
  await expect(decrypted(a, "the board meets at nine")).toBeVisible(KEYS);
  await archiveContext.close();
  await close();
});

test("someone added to an encrypted channel that shares its history reads what was said before, marked with who shared it", async ({
  browser,
}) => {
  const { a, b, bob, close } = await twoPeople(browser, "Histories");
  const link = await inviteLink(a);
  const cyContext = await browser.newContext();
  const c = await cyContext.newPage();
  const cy = unique("cy");
  await c.goto(link);
  await c.getByRole("link", { name: "Create an account to join" }).click();
  await signUp(c, cy, "Cy", "");
  await c.getByRole("button", { name: "Join as Cy" }).click();
  await expect(c.getByRole("heading", { level: 1, name: "general" })).toBeVisible();

  /** Ana adds `username` (named `name`) to the channel on her screen. */
  const add = async (username: string, name: string) => {
    await a.getByText("Add a workspace member").click();
    await a.getByRole("form", { name: "Add a member to this channel" }).getByLabel("Username").fill(username);
    await a.getByRole("button", { name: "Add", exact: true }).click();
    await expect(a.getByRole("complementary", { name: "Members" })).toContainText(name);
  };
  await createChannel(a, "plans", { private: true });
  await add(bob, "Bob");
  await a.getByText("🔒 Encrypt end to end").click();
  await a.getByRole("button", { name: "Encrypt this conversation" }).click();
  await takeRecoveryKey(a);
  await expectKeysReady(a);
  const sharing = a.locator(".history-sharing");
  await expect(sharing).toHaveAttribute("data-shares", "false");
  await expect(sharing).toContainText("People added later read from the moment they join.");
  await sharing.getByRole("button", { name: "Share history with people added" }).click();
  await expect(sharing).toHaveAttribute("data-shares", "true");
  await expect(sharing).toContainText("People added later read up to the latest 100 messages");
  await expectKeysReady(a);
  const plans = a.url();
  await b.goto(plans);
  await takeRecoveryKey(b);
  await expectKeysReady(b);
  for (const page of [a, b]) await expect(page.locator(".keys-panel")).toHaveAttribute("data-joined", "true", KEYS);
  await send(a, "the plan, before Cy");
  await expect(decrypted(b, "the plan, before Cy")).toBeVisible(KEYS);

  // Ana adds Cy; Cy's browser makes its keys, and the device that adds it shares what it read.
  await add(cy, "Cy");
  await c.goto(plans);
  await expect(c.getByRole("heading", { level: 1, name: "plans" })).toBeVisible();
  await takeRecoveryKey(c);
  await expectKeysReady(c);
  await expect(c.locator(".keys-panel")).toHaveAttribute("data-joined", "true", KEYS);
  const before = decrypted(c, "the plan, before Cy");
  await expect(before).toBeVisible(KEYS);
  await expect(before.locator(".shared-history")).toHaveText(/^Shared with you by (Ana|Bob)$/);

  // What follows reads as any message does, shared by nobody.
  await send(a, "welcome, Cy");
  const after = decrypted(c, "welcome, Cy");
  await expect(after).toBeVisible(KEYS);
  await expect(after.locator(".shared-history")).toHaveCount(0);
  await cyContext.close();
  await close();
});

/** Frames `page`'s call encrypted, decrypted, or could not decrypt so far (its connection details). */
async function frames(page: Page, which: "encrypted" | "decrypted" | "unreadable"): Promise<number> {
  return Number(await page.locator(`dd[data-frames="${which}"]`).textContent());
}

test("a call in an encrypted conversation is encrypted in each browser, and both hear and see each other", async ({
  browser,
}) => {
  const { a, b, close } = await encryptedDm(browser);
  const controls = (page: Page) => page.getByRole("toolbar", { name: "Call controls" });
  await expect(a.getByRole("region", { name: "Call" }).getByRole("note")).toContainText(
    "End-to-end encrypted: each browser encrypts its sound and pictures",
  );

  // Ana calls; Bob accepts. Each browser's worker encrypts what it sends and decrypts what it receives.
  await a.getByRole("button", { name: "Start call" }).click();
  await b.getByRole("alertdialog", { name: "Incoming call" }).getByRole("button", { name: "Accept" }).click();
  for (const page of [a, b]) {
    await expect(page.locator("section.call-stage")).toHaveAttribute("data-phase", "connected", KEYS);
  }
  await controls(a).getByRole("button", { name: "Turn camera on" }).click();
  await controls(b).getByRole("button", { name: "Turn camera on" }).click();

  // Each hears the other's fake microphone beep (decoded only if it decrypted) and sees their camera.
  await expect(b.locator('li.tile[data-user^="ana"]')).toHaveAttribute("data-speaking", "true", KEYS);
  await expect(a.locator('li.tile[data-user^="bob"]')).toHaveAttribute("data-speaking", "true", KEYS);
  for (const [page, other] of [
    [a, "bob"],
    [b, "ana"],
  ] as const) {
    const video = page.locator(`li.tile[data-user^="${other}"] video`);
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.videoWidth), KEYS).toBeGreaterThan(0);
    await expect.poll(() => frames(page, "encrypted"), KEYS).toBeGreaterThan(200);
    await expect.poll(() => frames(page, "decrypted"), KEYS).toBeGreaterThan(200);
    expect(await frames(page, "unreadable")).toBe(0);
  }
  // The server cannot record it: the control is not offered.
  await expect(controls(a).getByRole("button", { name: "Start recording" })).toHaveCount(0);
  await controls(b).getByRole("button", { name: "Leave call" }).click();
  await controls(a).getByRole("button", { name: "Leave call" }).click();
  await close();
});

test("an encrypted call takes up its conversation's new keys when a device is added mid-call, and goes on", async ({
  browser,
}) => {
  const { a, b, bob, dm, bobKey, close } = await encryptedDm(browser);
  await a.getByRole("button", { name: "Start call" }).click();
  await b.getByRole("alertdialog", { name: "Incoming call" }).getByRole("button", { name: "Accept" }).click();
  await expect(b.locator('li.tile[data-user^="ana"]')).toHaveAttribute("data-speaking", "true", KEYS);
  const epoch = async (page: Page) => Number(await page.locator('dd[data-frames="epoch"]').getAttribute("data-epoch"));
  const before = await epoch(a);
  expect(before).toBeGreaterThan(0);
  expect(await epoch(b)).toBe(before);

  // Bob signs in on another browser and restores his keys there: his new device is added to the conversation.
  const otherContext = await browser.newContext();
  const b2 = await otherContext.newPage();
  await signIn(b2, bob);
  await b2.goto(dm);
  await b2.getByLabel("Recovery key").fill(bobKey);
  await b2.getByRole("button", { name: "Restore keys" }).click();
  await expect(b2.locator(".keys-panel")).toHaveAttribute("data-joined", "true", KEYS);

  // Both browsers in the call now send with the new epoch's keys, and each still hears the other.
  for (const page of [a, b]) await expect.poll(() => epoch(page), KEYS).toBeGreaterThan(before);
  for (const page of [a, b]) {
    const then = await frames(page, "decrypted");
    await expect.poll(() => frames(page, "decrypted"), KEYS).toBeGreaterThan(then + 100);
  }
  await expect(a.locator('li.tile[data-user^="bob"]')).toHaveAttribute("data-speaking", "true", KEYS);
  await expect(b.locator('li.tile[data-user^="ana"]')).toHaveAttribute("data-speaking", "true", KEYS);
  await otherContext.close();
  await close();
});

test("a browser that cannot encrypt a call's media does not join an encrypted conversation's call, and says why", async ({
  browser,
}) => {
  const { a, close } = await encryptedDm(browser);
  // As in a browser without encoded transforms.
  await a.addInitScript(() => {
    delete (window as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform;
  });
  await a.reload();
  await expectKeysReady(a);
  await a.getByRole("button", { name: "Start call" }).click();
  const stage = a.getByRole("region", { name: "Call" });
  await expect(stage.getByRole("alert")).toContainText("This browser cannot encrypt a call's sound and pictures", KEYS);
  await expect(a.locator("section.call-stage")).toHaveAttribute("data-phase", "idle");
  await expect(stage.getByRole("button", { name: "Start call" })).toBeVisible();
  await close();
});

test("where the call worker does not load, an encrypted conversation's call is left, saying why", async ({ browser }) => {
  const { a, close } = await encryptedDm(browser);
  // The page asks for a worker script the server does not have, as when it fails to load.
  await a.addInitScript(() => {
    const Real = window.Worker;
    window.Worker = class extends Real {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(String(url) === "/call-worker.js" ? "/no-such-worker.js" : url, options);
      }
    };
  });
  await a.reload();
  await expectKeysReady(a);
  await a.getByRole("button", { name: "Start call" }).click();
  const stage = a.getByRole("region", { name: "Call" });
  await expect(stage.getByRole("alert")).toContainText("The call's encryption could not start: its worker failed", KEYS);
  await expect(a.locator("section.call-stage")).toHaveAttribute("data-phase", "idle");
  await close();
});
