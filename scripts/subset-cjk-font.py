#!/usr/bin/python3
"""Writes ui/kiosk/fonts/DroidSansFallbackCommon.ttf and common-han.txt.

The kiosk's CJK font (DroidSansFallbackFull.ttf) has 49,382 glyphs; Fyne's
text shaper parses every one when it loads a font (≈ 13 MB of Go heap on the
kiosk). The common subset keeps every character of the full font except the
ideographs outside GB 2312 (its 6,763 hanzi stay): all the kiosk's own text
and nearly every hall's names and materials. The kiosk shows a view with an
ideograph outside it (a rare character in a place name, a material, a
closure notice) in the full font, which it then loads (ui/kiosk/theme.go).

common-han.txt lists the ideographs the subset keeps (one line, sorted by
code point); the kiosk checks a view's text against it.

Needs fontTools (Debian: python3-fonttools); the build does not: both files
are committed. Run from the repository's root: scripts/subset-cjk-font.py
"""
from fontTools import subset
from fontTools.ttLib import TTFont

SRC = "ui/kiosk/fonts/DroidSansFallbackFull.ttf"
DST = "ui/kiosk/fonts/DroidSansFallbackCommon.ttf"
HAN = "ui/kiosk/fonts/common-han.txt"


def is_han(cp):
    # CJK Unified Ideographs and Extension A, compatibility ideographs, and
    # the supplementary planes' extensions
    return (0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or
            0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3FFFF)


gb2312 = set()
for hi in range(0xB0, 0xF8):  # GB 2312 rows 16–87: the hanzi
    for lo in range(0xA1, 0xFF):
        try:
            gb2312.add(ord(bytes([hi, lo]).decode("gb2312")))
        except UnicodeDecodeError:
            pass

cmap = TTFont(SRC).getBestCmap()
keep = sorted(cp for cp in cmap if not is_han(cp) or cp in gb2312)
han = [cp for cp in keep if is_han(cp)]

opts = subset.Options()
opts.layout_features = []  # its only feature is vert (vertical forms): the kiosk writes across
opts.name_IDs = ["*"]
opts.name_languages = ["*"]
opts.notdef_outline = True
opts.recalc_bounds = False
opts.hinting = True
font = TTFont(SRC)
s = subset.Subsetter(opts)
s.populate(unicodes=keep)
s.subset(font)
font.save(DST)

with open(HAN, "w", encoding="utf-8") as f:
    f.write("".join(chr(cp) for cp in han) + "\n")
print(f"{DST}: {len(keep)} characters ({len(han)} ideographs) of {len(cmap)}; "
      f"{font['maxp'].numGlyphs} glyphs")
