#!/usr/bin/env python3
"""Checks every internal link of the built site: check_links.py HTML_DIR

Every href and src in every page that is not external (http:, https:, mailto:)
must name a file that exists in the site, and a #fragment must be an id of
that page. Prints one line per broken link and exits 1 if there is any.
Sphinx's own linkcheck builder is for external links; this covers what the
pages link to among themselves, including links written in raw HTML or
produced by the theme.
"""
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("preconnect", "dns-prefetch")):
                self.links.append((key, a[key], self.getpos()[0]))


def main(site: Path) -> int:
    pages = {}
    for path in sorted(site.rglob("*.html")):
        page = Page()
        page.feed(path.read_text(encoding="utf-8"))
        pages[path.resolve()] = page
    broken = []
    for path, page in pages.items():
        for key, link, line in page.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto", "data", "javascript"):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(site.resolve())}:{line}"
            if not target.exists():
                broken.append(f"{where}: {key}={link}: no such file")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else set()
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{where}: {key}={link}: no id '{parts.fragment}' in {target.name}")
    for b in broken:
        print("broken link: " + b)
    print(f"check_links: {sum(len(p.links) for p in pages.values())} links in {len(pages)} pages, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_links.py HTML_DIR")
    sys.exit(main(Path(sys.argv[1])))
