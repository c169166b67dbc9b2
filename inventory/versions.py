"""Firmware and software versions that compare: the version inside the text a device reports, and an
order that knows dotted numbers and the common vendor schemes, so that "firmware at least X" can be
checked. Pure: strings in, strings and tuples out.

What `normalise_version` keeps, scheme by scheme:
- dotted numbers and what is glued to them, as the vendor wrote them: `8.0.1`, Arista `4.20.5F`,
  Brocade `08.0.30tT311`, Clavister `8.90.07.01-11595`, Junos `16.1R6.7`;
- Cisco trains with their parentheses: `12.2(55)SE3`, NX-OS `6.0(2)N2(3)`, Ruijie `10.4(3)p4`;
- a letter family before the numbers: HP ProCurve `Z.14.31`, `K.15.14.0007`;
- a leading `v` is dropped (`v6.7.2` is `6.7.2`, FortiOS `v6.4.5,build1828` is `6.4.5`);
- Huawei VRP: the platform version and the product release, as Huawei prints them side by side:
  `5.160 V200R007C00SPC500` (the platform alone, `5.160`, does not say which release runs);
- H3C Comware (and Huawei's older VRP): `5.20 Release 1513P62`, the same way;
- APC management cards: the AOS (`PF:`) version of the sysDescr, not the boot monitor's (`MB:`).
Dates (`16.04.2019`), model names (`H.264`, `ICX6430-24`), an OID glued to a word (`zint1.3.6.1.4.1...`)
and bare numbers (`Build 2600`) are not versions.

How `version_key` orders: numbers as numbers (`1.10` after `1.9`; `08` is `8`), letters without
regard to case, a parenthesised part as one unit (`12.2(55)` before `12.2(55a)` before `12.2(56)`),
more parts after fewer (`12.2(55)SE` before `12.2(55)SE3`, `16.1R6` before `16.1R6.7`), and, where
letters meet numbers at the same place, letters first (`1.0a` before `1.0.1`). Letters compare
alphabetically: Junos `R` (release) builds come before `X` (special) builds of the same major.minor,
and Cisco trains of the same maintenance release (`SE`, `EX`) in their alphabetical order, which says
nothing about age: compare a train with itself. Where a release identifier is present (Huawei
`V200R007C00SPC500`, H3C `Release 1513P62`) only it is compared, since that is how the vendors and
their advisories name a minimum. Any two versions compare, whatever their schemes, and never raise."""
import re

# Huawei's VRP release: V(ersion) R(elease) C(ustomised build) SPC (service pack), or B (build), SPH...;
# DPtech and Venus number theirs the same way.
LEADING_V = re.compile(r"^[vV](?=\d)")
VRP_RELEASE = re.compile(r"(?<![A-Za-z0-9])V\d{3,4}R\d{3,4}(?:[A-Z]+\d+)*(?![A-Za-z0-9])")
# The platform version printed before it: "Version 5.160 (S5720 V200R007C00SPC500)".
VRP_PLATFORM = re.compile(r"(?:^|\bversion\s*)(\d+\.\d+)(?=[\s(,])", re.IGNORECASE)
# H3C Comware and older VRP: "Software Version 5.20, Release 1513P62", "Version 5.160 (CN), RELEASE 0089".
COMWARE_RELEASE = re.compile(r"\brelease\s+(?P<release>\d{4}(?:[A-Z]+\d+)*)(?![\w.])", re.IGNORECASE)
# ...and the same in H3C's entPhysicalSoftwareRev, without the word: "7.1.075 7751P01".
COMWARE_PAIR = re.compile(r"^(?P<platform>\d+\.\d+(?:\.\d+)?) (?P<release>\d{4}[A-Z]+\d+)$")
# APC Network Management Card: "(MB:v4.1.0 PF:v6.7.2 PN:apc_hw05_aos_672.bin AF1:v6.7.2 ...)".
APC_AOS = re.compile(r"\bPF:(\S+)")
VERSION = re.compile(r"""
    (?<![A-Za-z0-9.])         # a word of its own: not the tail of a model name, an OID or a longer number
    (?:[vV](?=\d))?           # 'v6.7.2': the v is no part of the version
    (?P<version>
        (?:[A-Z]{1,2}\.?)?\d+ # a family the vendor puts first: ProCurve Z.14.31
        (?:\.\d|\(\w)         # then a dot or a Cisco parenthesis: a bare number (Build 2600) is no version
        [\w.()\-]*            # and the rest: trains, builds, suffixes, up to a space or a comma
    )""", re.VERBOSE)
DATES = (re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?:19|20)\d\d"),  # 16.04.2019
         re.compile(r"(?:19|20)\d\d\.(?P<month>\d{1,2})\.(?P<day>\d{1,2})"))  # 2016.12.16
TOKEN = re.compile(r"\d+|[A-Za-z]+|[()]")
# Where a letter and a number meet at the same place, the letter sorts first; a parenthesis between.
TEXT, GROUP, NUMBER = 0, 1, 2


def normalise_version(text: str) -> str | None:
    """The version inside a firmware or software string, in its vendor's scheme; None when there is none.

    `Cisco IOS Software, C3750 Software (C3750-IPBASE-M), Version 12.2(50)SE5, ...` gives `12.2(50)SE5`;
    `Version 5.160 V200R007C00SPC500` gives `5.160 V200R007C00SPC500`; `Vyatta unknown-version` None."""
    text = " ".join(text.split())
    for find in (_vrp_release, _comware_release, _apc_aos, _first_version):
        found = find(text)
        if found:
            return found
    return None


def version_key(version: str) -> tuple:
    """A sort key: `version_key(a) < version_key(b)` when a is the earlier version.

    Takes a version as `normalise_version` gives it or as a person writes a minimum (`v6.7.2`,
    `V200R007C00SPC500`, `15.0(2)SE11`); text holding no version still gets a key, by its words."""
    return _key(normalise_version(version) or version.strip())


def at_least(reported: str, minimum: str) -> bool | None:
    """Whether the reported firmware is `minimum` or later; None when either holds no readable version."""
    reported_version, minimum_version = normalise_version(reported), normalise_version(minimum)
    if reported_version is None or minimum_version is None:
        return None
    return _key(reported_version) >= _key(minimum_version)


def _key(version: str) -> tuple:
    """The sort key of a normalised version: a Huawei or Comware release alone, as advisories name a minimum."""
    release = VRP_RELEASE.search(version) or COMWARE_RELEASE.search(version)
    if release:
        version = release.groupdict().get("release") or release.group()
    return _tokens(LEADING_V.sub("", version))


def _vrp_release(text: str) -> str | None:
    release = VRP_RELEASE.search(text)
    if release is None:
        return None
    platforms = VRP_PLATFORM.findall(text[:release.start()])
    return " ".join([*platforms[-1:], release.group()])


def _comware_release(text: str) -> str | None:
    pair = COMWARE_PAIR.match(text)
    if pair:
        return f"{pair['platform']} Release {pair['release']}"
    release = COMWARE_RELEASE.search(text)
    if release is None:
        return None
    platform = _first_version(text[:release.start()])
    return " ".join(filter(None, (platform, f"Release {release['release']}")))


def _apc_aos(text: str) -> str | None:
    aos = APC_AOS.search(text)
    return _first_version(aos.group(1)) if aos else None


def _first_version(text: str) -> str | None:
    for found in VERSION.finditer(text):
        version = _trimmed(found["version"])
        if not _is_date(version):
            return version
    return None


def _trimmed(version: str) -> str:
    """Without the sentence's punctuation after it, an opening parenthesis that holds nothing, or a closing
    one that it did not open."""
    version = version.rstrip(".-_(")
    while version.endswith(")") and version.count(")") > version.count("("):
        version = version[:-1].rstrip(".-_(")
    return version


def _is_date(version: str) -> bool:
    for date in DATES:
        found = date.fullmatch(version)
        if found and 1 <= int(found["month"]) <= 12 and 1 <= int(found["day"]) <= 31:
            return True
    return False


def _tokens(version: str) -> tuple:
    """Numbers, words and parenthesised groups, each as (kind, value) so that any two compare."""
    stack: list[list[tuple]] = [[]]
    for token in TOKEN.findall(version):
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) > 1:  # a stray ")" closes nothing
                group = tuple(stack.pop())
                stack[-1].append((GROUP, group))
        elif token.isdigit():
            stack[-1].append((NUMBER, int(token)))
        else:
            stack[-1].append((TEXT, token.upper()))
    while len(stack) > 1:  # an unclosed "(" closes at the end
        group = tuple(stack.pop())
        stack[-1].append((GROUP, group))
    return tuple(stack[0])
