"""plotly.js as the plotly package bundles it, served by the app (no CDN, working offline), and its style sheet.

plotly.js writes its style rules into a <style> element it adds to the page, which the Content-Security-Policy
refuses (style-src 'self'). It skips that when the page already has an element with the id
"plotly.js-style-global" and the class "no-inline-styles" (plotly.js 2.35 and later): the pages link this style
sheet under that id, made once from the rules inside the bundle itself, so it always matches the bundle. The map
library inside the bundle adds its own <style> unless an element with its id is there: the pages link its rules
under that id too (`parts`)."""
import re
from functools import cache
from pathlib import Path

import plotly

BUNDLE = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
# The bundle's rules: an object literal of selector -> declarations, the selectors starting with X (the plot) or
# Y (the notifier), which the bundle replaces with these before adding them.
RULES = re.compile(r'\{"X,X div":.*?\}')
# One entry of that literal: a double-quoted selector, and declarations in double or single quotes (no escapes).
ENTRY = re.compile(r'"([^"]*)":(?:"([^"]*)"|\'([^\']*)\')')
PREFIXES = {"X": ".js-plotly-plot .plotly", "Y": ".plotly-notifier"}
# A style element a bundled library adds unless the page has an element of its id: its id and its rules.
INJECTED = re.compile(r'if\(!document\.getElementById\("([0-9a-f]+)"\)\)\{var e=document\.createElement\("style"\);'
                      r'e\.id="\1",e\.textContent=\'([^\']*)\'')


@cache
def style_sheet() -> str:
    found = RULES.search(BUNDLE.read_text(encoding="utf-8"))
    if found is None:
        raise RuntimeError(f"plotly.js style rules not found in {BUNDLE}: the bundle changed; see this module")
    return "".join(f"{_selector(selector)}{{{double or single}}}\n"
                   for selector, double, single in ENTRY.findall(found.group(0)))


def _selector(selector: str) -> str:
    selector = selector.replace(",", " ,") if selector.startswith(",") else selector
    for letter, prefix in PREFIXES.items():
        selector = selector.replace(letter, prefix)
    return selector


@cache
def parts() -> dict[str, str]:
    """The style elements the bundle's libraries would add, by their id: their rules."""
    return dict(INJECTED.findall(BUNDLE.read_text(encoding="utf-8")))
