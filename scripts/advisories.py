#!/usr/bin/env python3
"""Checks Cargo.lock against the RustSec advisory database (an offline copy).

Usage: advisories.py <advisory-db> <Cargo.lock> <audit.toml>

Every crates.io package in the lock file is compared with the advisories of
its name: it is affected when its version is neither patched nor unaffected
by the advisory's version requirements (Cargo's syntax: `>= 1.2.3, < 2`,
`^0.4`, a bare `1.2` meaning `^1.2`). Vulnerabilities and the informational
kinds that `cargo audit --deny warnings` fails on (unmaintained, unsound)
fail the check unless `audit.toml` lists the advisory's id under
`[advisories] ignore`, with the reason beside it. Withdrawn advisories and
notices are skipped, as cargo audit does. Exit status 1 lists what was found.

It does what `cargo audit --no-fetch --deny warnings` did for this project
without compiling cargo-audit (five minutes on a new machine). Yanked
versions, which need the crates.io index, are not checked.
"""

import re
import sys
import tomllib
from pathlib import Path


def parse_version(text):
    """`1.2.3-rc.1+build` → ((1, 2, 3), ('rc', 1)); missing parts are 0."""
    text = text.strip().split("+", 1)[0]
    core, _, pre = text.partition("-")
    parts = [int(p) for p in core.split(".")]
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"not a version: {text!r}")
    given = len(parts)
    parts += [0] * (3 - len(parts))
    ids = tuple(int(i) if i.isdigit() else i for i in pre.split(".")) if pre else ()
    return tuple(parts), ids, given


def pre_key(ids):
    """Orders pre-release identifiers as semver does; none sorts last."""
    if not ids:
        return (1,)
    return (0, tuple((0, i, "") if isinstance(i, int) else (1, 0, i) for i in ids), len(ids))


def key(version):
    core, ids, _ = version
    return core, pre_key(ids)


def bump(core, given):
    """The first version that a caret requirement no longer accepts."""
    major, minor, patch = core
    if major > 0 or given == 1:
        return (major + 1, 0, 0)
    if minor > 0 or given == 2:
        return (0, minor + 1, 0)
    return (0, 0, patch + 1)


COMPARATOR = re.compile(r"^\s*(>=|<=|>|<|=|\^|~)?\s*([0-9][0-9A-Za-z.+-]*)\s*$")


def comparators(requirement):
    """`>= 1.2, < 2` → [(op, version)]; caret and tilde become bounds."""
    out = []
    for part in requirement.split(","):
        m = COMPARATOR.match(part)
        if not m:
            raise ValueError(f"not a version requirement: {requirement!r}")
        op, version = m.group(1) or "^", parse_version(m.group(2))
        core, ids, given = version
        if op == "^":
            out += [(">=", version), ("<", (bump(core, given), (), 3))]
        elif op == "~":
            upper = (core[0] + 1, 0, 0) if given == 1 else (core[0], core[1] + 1, 0)
            out += [(">=", version), ("<", (upper, (), 3))]
        elif op == "=" and given < 3:
            upper = (core[0] + 1, 0, 0) if given == 1 else (core[0], core[1] + 1, 0)
            out += [(">=", version), ("<", (upper, (), 3))]
        else:
            out.append((op, version))
    return out


def matches(requirement, version):
    """Whether `version` satisfies `requirement`, pre-releases as Cargo treats
    them: only a comparator naming the same x.y.z with a pre-release admits one."""
    comps = comparators(requirement)
    if version[1] and not any(v[0] == version[0] and v[1] for _, v in comps):
        return False
    have = key(version)
    for op, v in comps:
        want = key(v)
        ok = {
            ">=": have >= want,
            "<=": have <= want,
            ">": have > want,
            "<": have < want,
            "=": have == want,
        }[op]
        if not ok:
            return False
    return True


def read_advisory(path):
    """An advisory file's TOML front matter, and its title (the first heading)."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r"```toml\n(.*?)\n```", text, re.S)
    if not m:
        raise ValueError(f"{path}: no TOML front matter")
    title = text[m.end():].split("\n# ", 1)[-1].split("\n", 1)[0]
    return tomllib.loads(m.group(1)), title


def affected(advisory, version):
    versions = advisory.get("versions", {})
    safe = versions.get("patched", []) + versions.get("unaffected", [])
    return not any(matches(req, version) for req in safe)


def packages_of(lock):
    """Every package in a Cargo.lock, and those from crates.io."""
    every = tomllib.loads(lock.read_text())["package"]
    return every, [p for p in every if p.get("source", "").startswith("registry+")]


def findings(db, packages, ignore):
    """(package, version, id, kind, title) for every advisory that applies to
    one of `packages` (crates.io packages of a lock file)."""
    found = []
    for p in packages:
        folder = db / "crates" / p["name"]
        if not folder.is_dir():
            continue
        version = parse_version(p["version"])
        for path in sorted(folder.glob("*.md")):
            doc, title = read_advisory(path)
            adv = doc["advisory"]
            kind = adv.get("informational", "vulnerability")
            if adv.get("withdrawn") or kind == "notice" or adv["id"] in ignore:
                continue
            if affected(doc, version):
                found.append((p["name"], p["version"], adv["id"], kind, title))
    return found


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    db, lock, config = Path(argv[1]), Path(argv[2]), Path(argv[3])
    ignore = set(tomllib.loads(config.read_text()).get("advisories", {}).get("ignore", []))
    every, registry = packages_of(lock)
    found = findings(db, registry, ignore)
    for name, version, id_, kind, title in found:
        print(f"{id_} ({kind}): {name} {version}: {title}")
    if found:
        print(f"{len(found)} advisories apply; upgrade, or explain each in {config}", file=sys.stderr)
        return 1
    print(f"{len(every)} packages checked: no advisory applies ({len(ignore)} allowed in {config.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
