"""Tests of the advisory check (scripts/advisories.py), run by scripts/test:
version requirements as Cargo reads them, and a lock file checked against
the real advisory database. Usage: test_advisories.py <advisory-db>"""

import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import advisories  # noqa: E402

DB = None


def v(text):
    return advisories.parse_version(text)


class Requirements(unittest.TestCase):
    def test_bounds_include_and_exclude_their_edges_as_written(self):
        self.assertTrue(advisories.matches(">= 1.2.3", v("1.2.3")))
        self.assertFalse(advisories.matches(">= 1.2.3", v("1.2.2")))
        self.assertTrue(advisories.matches("< 0.3", v("0.2.9")))
        self.assertFalse(advisories.matches("< 0.3", v("0.3.0")))
        self.assertTrue(advisories.matches(">= 1.18.5, < 1.19.0", v("1.18.9")))
        self.assertFalse(advisories.matches(">= 1.18.5, < 1.19.0", v("1.19.0")))

    def test_caret_and_bare_versions_stop_at_the_next_breaking_release(self):
        self.assertTrue(advisories.matches("^0.4.5", v("0.4.9")))
        self.assertFalse(advisories.matches("^0.4.5", v("0.5.0")))
        self.assertTrue(advisories.matches("1.2", v("1.9.0")))
        self.assertFalse(advisories.matches("1.2", v("2.0.0")))
        self.assertFalse(advisories.matches("^0.0.3", v("0.0.4")))

    def test_tilde_and_partial_equality_allow_patch_releases(self):
        self.assertTrue(advisories.matches("~1.2.3", v("1.2.9")))
        self.assertFalse(advisories.matches("~1.2.3", v("1.3.0")))
        self.assertTrue(advisories.matches("=1.2", v("1.2.7")))
        self.assertFalse(advisories.matches("=1.2", v("1.3.0")))

    def test_a_pre_release_matches_only_a_requirement_naming_its_release(self):
        self.assertFalse(advisories.matches(">= 1.0.0", v("1.1.0-alpha.1")))
        self.assertTrue(advisories.matches(">= 1.1.0-alpha.1", v("1.1.0-alpha.2")))
        self.assertFalse(advisories.matches(">= 1.1.0-alpha.2", v("1.1.0-alpha.1")))
        self.assertTrue(advisories.matches(">= 1.1.0-alpha.9", v("1.1.0-alpha.10")))

    def test_build_metadata_is_ignored(self):
        self.assertTrue(advisories.matches("= 0.11.1", v("0.11.1+wasi-snapshot-preview1")))

    def test_nonsense_is_refused(self):
        with self.assertRaises(ValueError):
            advisories.matches("about 1.2", v("1.2.0"))


def lock(*packages):
    entries = "".join(
        f'[[package]]\nname = "{name}"\nversion = "{version}"\nsource = "{source}"\n\n'
        for name, version, source in packages
    )
    return "version = 4\n\n" + entries


REGISTRY = "registry+https://github.com/rust-lang/crates.io-index"


class Database(unittest.TestCase):
    def check(self, text, ignore=()):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "Cargo.lock"
            path.write_text(text)
            _, registry = advisories.packages_of(path)
            return [f[2] for f in advisories.findings(DB, registry, set(ignore))]

    def test_a_vulnerable_version_is_found_and_a_patched_one_is_not(self):
        self.assertIn("RUSTSEC-2023-0005", self.check(lock(("tokio", "1.24.1", REGISTRY))))
        self.assertNotIn("RUSTSEC-2023-0005", self.check(lock(("tokio", "1.24.2", REGISTRY))))
        self.assertNotIn("RUSTSEC-2023-0005", self.check(lock(("tokio", "1.18.6", REGISTRY))))

    def test_an_advisory_without_a_fix_applies_to_every_version(self):
        self.assertEqual(self.check(lock(("rsa", "0.9.10", REGISTRY))), ["RUSTSEC-2023-0071"])

    def test_an_allowed_advisory_is_not_reported(self):
        self.assertEqual(self.check(lock(("rsa", "0.9.10", REGISTRY)), ["RUSTSEC-2023-0071"]), [])

    def test_unmaintained_crates_are_reported(self):
        self.assertEqual(self.check(lock(("fxhash", "0.2.1", REGISTRY))), ["RUSTSEC-2025-0057"])

    def test_crates_from_elsewhere_are_not_compared(self):
        self.assertEqual(self.check(lock(("rsa", "0.9.10", "git+https://example.com/rsa"))), [])


if __name__ == "__main__":
    DB = Path(sys.argv.pop(1))
    unittest.main(verbosity=1)
