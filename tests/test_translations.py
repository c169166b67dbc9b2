"""Every message a page can show is in the Vietnamese catalogue, translated: extracted from the code as
`make translations` extracts it, and compared with translations/vi/LC_MESSAGES/messages.po."""
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def test_every_message_has_its_vietnamese(tmp_path):
    keywords = re.search(r"^BABEL_KEYWORDS := (.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    template = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", *keywords,
                    "--ignore-dirs=.* ._ .venv tests bench migrations instance", "-o", str(template), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with template.open("rb") as file:
        wanted = {message.id for message in read_po(file) if message.id}
    with (ROOT / "translations/vi/LC_MESSAGES/messages.po").open("rb") as file:
        catalogue = read_po(file)
    translated = {message.id for message in catalogue
                  if message.id and all(message.string if isinstance(message.string, tuple) else [message.string])
                  and "fuzzy" not in message.flags}
    assert sorted(map(str, wanted - translated)) == []
    assert len(wanted) > 500  # the extraction found the pages' messages (not an empty run)
