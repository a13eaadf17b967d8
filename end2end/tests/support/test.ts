// The `test` every spec uses: Playwright's, with one addition: a test
// fails when any page it opened (in its own browser context or one it made
// with `browser.newContext`) threw an uncaught error, such as a panic of
// the app while hydrating, which would otherwise pass unseen when the
// server-rendered page looks right. A test that keeps the app from loading
// on purpose (to see pages as without JavaScript) says so with
// `test.use({ appBlocked: true })`, and its pages' errors are not counted.
import { test as base, type BrowserContext, type Page } from "@playwright/test";

export { expect } from "@playwright/test";

export const test = base.extend<{ appBlocked: boolean; noPageErrors: void }>({
  appBlocked: [false, { option: true }],
  noPageErrors: [
    async ({ context, browser, appBlocked }, use) => {
      const errors: string[] = [];
      const watchPage = (p: Page) => p.on("pageerror", (e) => errors.push(`${p.url()}: ${e.message}`));
      const watch = (c: BrowserContext) => {
        c.pages().forEach(watchPage);
        c.on("page", watchPage);
      };
      watch(context);
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (...args) => {
        const c = await newContext(...args);
        watch(c);
        return c;
      };
      try {
        await use();
      } finally {
        browser.newContext = newContext;
      }
      if (!appBlocked) base.expect(errors, "uncaught errors in the app's pages").toEqual([]);
    },
    { auto: true },
  ],
});
