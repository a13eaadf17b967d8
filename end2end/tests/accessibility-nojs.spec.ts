// Every page passes the automated accessibility audit without JavaScript,
// in the light and the dark colour scheme.
import { expect, test } from "@playwright/test";
import { auditEveryPage } from "./support/audit";

for (const scheme of ["light", "dark"] as const) {
  test(`every page has no serious accessibility violations without JavaScript in the ${scheme} scheme`, async ({
    browser,
  }) => {
    test.setTimeout(120_000);
    expect(await auditEveryPage(browser, scheme, false)).toEqual({});
  });
}
