// Every page passes the automated accessibility audit without JavaScript,
// in the light and the dark colour scheme.
import { expect, test } from "./support/test";
import { auditEveryPage } from "./support/audit";

// The audit blocks the app's files to see pages as without JavaScript: the
// pages' failed imports of the app are expected.
test.use({ appBlocked: true });

for (const scheme of ["light", "dark"] as const) {
  test(`every page has no serious accessibility violations without JavaScript in the ${scheme} scheme`, async ({
    browser,
  }) => {
    test.setTimeout(120_000);
    expect(await auditEveryPage(browser, scheme, false)).toEqual({});
  });
}
