// Web pushes delivered straight to a page's service worker (through the
// DevTools protocol, as the push service would), and the notifications it
// then shows.
import { type Page } from "@playwright/test";

/** An encrypted message a push is about (`PushedMessageDto`). */
export type PushedMessage = {
  user_id: string;
  channel_id: string;
  message_id: string;
};

/** A push's payload as the server sends it (`PushDto`). */
export type Push = {
  title: string;
  body: string;
  url: string;
  tag: string;
  count: number;
  id: string;
  encrypted?: PushedMessage;
};

/** A notification as the service worker showed it. */
export type Shown = { title: string; body: string; tag: string; url: string };

/** Delivers pushes to `page`'s service worker, once it is ready; reads what it shows. */
export async function pushesTo(page: Page, origin: string) {
  await page.evaluate(async () => navigator.serviceWorker.ready);
  const cdp = await page.context().newCDPSession(page);
  const registration = new Promise<string>((resolve) => {
    cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
      const r = registrations.find((x: { scopeURL: string; isDeleted: boolean }) => !x.isDeleted);
      if (r) resolve(r.registrationId);
    });
  });
  await cdp.send("ServiceWorker.enable");
  const registrationId = await registration;
  const deliver = async (push: Push) => {
    await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: JSON.stringify(push) });
  };
  const shown = async (): Promise<Shown[]> =>
    page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return (await reg.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url }));
    });
  return { deliver, shown };
}
