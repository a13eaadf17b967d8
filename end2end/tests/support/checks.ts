// What a person checks on screen.
import { expect, type Locator, type Page } from "@playwright/test";

/** The message list shows `text`, by `author`. */
export async function expectMessage(page: Page, author: string, text: string, timeout = 5_000) {
  const item = page.getByRole("log").getByRole("listitem").filter({ hasText: text });
  await expect(item).toBeVisible({ timeout });
  await expect(item.locator(".author")).toHaveText(author);
}

/** The page is hydrated and its live connection is up. */
export async function expectLive(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-live", "connected", { timeout: 10_000 });
}

/** The elements `items` matches carry `attribute` with `values`, in that order. */
export async function expectOrder(items: Locator, attribute: string, values: string[], timeout = 5_000) {
  await expect
    .poll(() => items.evaluateAll((els, a) => els.map((e) => e.getAttribute(a)), attribute), { timeout })
    .toEqual(values);
}
