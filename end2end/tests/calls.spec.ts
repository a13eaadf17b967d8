// Calls as people make them: two people in a voice channel hear and see each other
// through the server (each page's connection statistics show audio and video arriving
// from the other), a muted microphone stops reaching the other, and a shared screen
// is shown large to the other until it stops. Chromium's fake camera and microphone
// stand in for real ones.
import { type Page } from "@playwright/test";
import { expect, test } from "./support/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createChannel, twoPeople } from "./support/actions";

/** The duration ffprobe (Debian's ffmpeg) reads from a media file, in seconds. */
function ffprobeDuration(path: string): number {
  const out = execFileSync("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path]);
  return Number(out.toString().trim());
}

/** Bytes of `stat` (audio-in, video-in, …) the page's call has counted so far. */
async function bytes(page: Page, stat: string): Promise<number> {
  return Number(await page.locator(`dd[data-stat="${stat}"]`).getAttribute("data-bytes"));
}

/** Waits until `stat` has grown by more than `by` bytes from now. */
async function grows(page: Page, stat: string, by: number, timeout = 15_000): Promise<number> {
  const start = await bytes(page, stat);
  await expect.poll(() => bytes(page, stat), { timeout, message: `${stat} growing by ${by}` }).toBeGreaterThan(start + by);
  return bytes(page, stat);
}

function controls(page: Page) {
  return page.getByRole("toolbar", { name: "Call controls" });
}

test("two people in a voice channel hear and see each other; mute and a screen share reach the other", async ({ browser }) => {
  const { a, b, close } = await twoPeople(browser, "Calls");

  // Ana makes a voice channel; Bob opens it.
  await createChannel(a, "lounge", { kind: "voice" });
  await b.getByRole("link", { name: "lounge" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "lounge" })).toBeVisible();

  // Ana joins: Bob sees her in the call, in the sidebar and on the stage, without reloading.
  await a.getByRole("button", { name: "Join call" }).click();
  const aStage = a.getByRole("region", { name: "Call" });
  await expect(a.locator("section.call-stage")).toHaveAttribute("data-phase", "connected", { timeout: 15_000 });
  await expect(b.getByRole("list", { name: "In the call in lounge" })).toContainText("Ana");
  await expect(b.locator('li.tile[data-user^="ana"]')).toBeVisible();

  // Bob joins, and both turn their cameras on.
  await b.getByRole("button", { name: "Join call" }).click();
  await expect(b.locator("section.call-stage")).toHaveAttribute("data-phase", "connected", { timeout: 15_000 });
  await controls(a).getByRole("button", { name: "Turn camera on" }).click();
  await controls(b).getByRole("button", { name: "Turn camera on" }).click();
  await expect(controls(a).getByRole("button", { name: "Turn camera off" })).toBeVisible();

  // Each receives the other's audio and video through the server.
  for (const page of [a, b]) {
    await grows(page, "audio-in", 2_000);
    await grows(page, "video-in", 20_000);
  }
  // Bob's tile on Ana's page plays his camera.
  const bobVideo = a.locator('li.tile[data-user^="bob"] video');
  await expect.poll(() => bobVideo.evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 15_000 }).toBeGreaterThan(0);
  await expect(aStage.locator('li.tile[data-user^="ana"] .tile-name')).toHaveText("Ana (you)");
  // The fake microphone beeps: Bob's page rings Ana's tile while she sounds.
  await expect(b.locator('li.tile[data-user^="ana"]')).toHaveAttribute("data-speaking", "true", { timeout: 10_000 });

  // Ana mutes herself: Bob sees it, and her audio stops reaching him while her video goes on.
  await controls(a).getByRole("button", { name: "Mute", exact: true }).click();
  await expect(b.locator('li.tile[data-user^="ana"] .tile-state')).toContainText("muted");
  const audioThen = await bytes(b, "audio-in");
  await grows(b, "video-in", 60_000);
  // Only what was already on its way when she muted may arrive.
  expect(await bytes(b, "audio-in")).toBeLessThan(audioThen + 3_000);
  // She unmutes: he hears her again.
  await controls(a).getByRole("button", { name: "Unmute", exact: true }).click();
  await expect(b.locator('li.tile[data-user^="ana"] .tile-state')).toHaveCount(0);
  await grows(b, "audio-in", 2_000);

  // Bob shares his screen: Ana sees it large, named as his, and it plays.
  await controls(b).getByRole("button", { name: "Share screen" }).click();
  const screen = a.getByRole("figure", { name: "Bob's screen" });
  await expect(screen).toBeVisible({ timeout: 15_000 });
  await expect.poll(() => screen.locator("video").evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 15_000 }).toBeGreaterThan(0);
  // He stops: it leaves Ana's page.
  await controls(b).getByRole("button", { name: "Stop sharing" }).click();
  await expect(screen).toHaveCount(0, { timeout: 15_000 });

  // Ana records a little of the call: both see that it is recorded.
  await controls(a).getByRole("button", { name: "Start recording" }).click();
  await expect(b.getByRole("region", { name: "Call" }).getByText("Recording (Ana)")).toBeVisible();
  await grows(b, "audio-in", 10_000);
  await grows(a, "video-in", 100_000);
  await controls(a).getByRole("button", { name: "Stop recording" }).click();
  await expect(b.getByRole("region", { name: "Call" }).getByText("Recording (Ana)")).toHaveCount(0);

  // The recording arrives in the channel, live on Bob's page: a file per person and track.
  const posted = b.locator("li.message", { hasText: "Recording of the call in" });
  await expect(posted).toBeVisible({ timeout: 15_000 });
  const files = posted.locator("li.attachment a");
  await expect(files).toHaveCount(4);
  const dir = mkdtempSync(join(tmpdir(), "parley-recording-"));
  for (const link of await files.all()) {
    const name = (await link.locator(".file-name").textContent())!.trim();
    expect(name).toMatch(/^(ana|bob)\w*-(audio\.ogg|camera\.ivf)$/);
    const response = await b.request.get((await link.getAttribute("href"))!);
    expect(response.status()).toBe(200);
    const path = join(dir, name);
    writeFileSync(path, await response.body());
    expect(ffprobeDuration(path), `${name} has a duration`).toBeGreaterThan(0.5);
  }

  // Bob leaves from the bar that follows his call: Ana is alone in it again.
  await b.getByRole("region", { name: "Your call" }).getByRole("button", { name: "Leave" }).click();
  await expect(a.locator('li.tile[data-user^="bob"]')).toHaveCount(0);
  await expect(b.getByRole("button", { name: "Join call" })).toBeVisible();
  await close();
});

test("a call in a direct conversation rings the other's page: accepting joins it, declining tells the caller", async ({ browser }) => {
  const { a, b, bob, close } = await twoPeople(browser, "Callers");

  // Ana opens a conversation with Bob; it appears in his sidebar.
  await a.getByText("+ New message").click();
  await a.getByLabel("To (usernames, up to 7)").fill(bob);
  await a.getByRole("button", { name: "Open conversation" }).click();
  await expect(a.getByRole("heading", { level: 1, name: "Bob" })).toBeVisible();
  await expect(a.locator("html")).toHaveAttribute("data-live", "connected", { timeout: 10_000 });
  await expect(b.getByRole("list", { name: "Direct messages" }).getByRole("link", { name: /Ana/ })).toBeVisible();

  // Ana calls. Bob, still in #general, hears it ring, accepts, and is taken to the call.
  await a.getByRole("button", { name: "Start call" }).click();
  const ring = b.getByRole("alertdialog", { name: "Incoming call" });
  await expect(ring).toContainText("Ana is calling you", { timeout: 10_000 });
  await ring.getByRole("button", { name: "Accept" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "Ana" })).toBeVisible();
  await expect(b.locator("section.call-stage")).toHaveAttribute("data-phase", "connected", { timeout: 15_000 });
  await expect(ring).toHaveCount(0);
  await grows(a, "audio-in", 2_000);
  await grows(b, "audio-in", 2_000);
  await controls(b).getByRole("button", { name: "Leave call" }).click();
  await controls(a).getByRole("button", { name: "Leave call" }).click();

  // Back in #general, Bob declines the next call, and Ana is told.
  await b.getByRole("link", { name: "general" }).click();
  await expect(b.getByRole("heading", { level: 1, name: "general" })).toBeVisible();
  await a.getByRole("button", { name: "Start call" }).click();
  await b.getByRole("alertdialog", { name: "Incoming call" }).getByRole("button", { name: "Decline" }).click();
  await expect(a.getByRole("alert").filter({ hasText: "Bob declined the call." })).toBeVisible();
  await expect(b.getByRole("alertdialog", { name: "Incoming call" })).toHaveCount(0);
  await controls(a).getByRole("button", { name: "Leave call" }).click();
  await close();
});
