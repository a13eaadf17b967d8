// Every page passes the automated accessibility audit, hydrated, in the
// light and the dark colour scheme (the pages without JavaScript:
// accessibility-nojs.spec.ts).
import { expect, test } from "./support/test";
import { auditEveryPage } from "./support/audit";

for (const scheme of ["light", "dark"] as const) {
  test(`every page has no serious accessibility violations in the ${scheme} scheme`, async ({ browser }) => {
    test.setTimeout(120_000);
    expect(await auditEveryPage(browser, scheme, true)).toEqual({});
  });
}
