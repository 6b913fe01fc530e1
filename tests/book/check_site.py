#!/usr/bin/env python3
"""tests/book/check_site.py - the book renders to a site with no broken internal links.

    check_site.py RENDER_SH BOOK_DIR [PAGE:EXAMPLE ...]

Renders BOOK_DIR with RENDER_SH (docs/book/site/render.sh) into a temporary directory, then
checks what a reader relies on:
  - rendering succeeds and every Markdown page of the book is reachable from index.md, i.e.
    became an HTML page (a page missing from the table of contents would be lost);
  - every relative link and resource (href, src) points at a file of the site (a folder
    counts when it has an index.html), and every
    #fragment at an id that exists in the target page;
  - nothing is fetched from elsewhere (no scripts, no remote stylesheets, fonts or images);
  - every page has the sidebar table of contents and prev/next links in reading order;
  - every file in examples/ is a sample the suite builds and runs (the PAGE:EXAMPLE pairs of
    tests/book/meson.build), and every sample a page shows is one of them.
Exits 77 (skipped) when pandoc is not installed, 1 on any failure, listing each one.
"""
import glob
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.refs = []  # (tag, attribute, value)
        self.rel = {}   # rel -> href of prev/next links
        self.classes = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        for c in (a.get("class") or "").split():
            self.classes.add(c)
        for attr in ("href", "src"):
            if a.get(attr) is not None:
                self.refs.append((tag, attr, a[attr]))
        if tag == "a" and a.get("rel") in ("prev", "next"):
            self.rel.setdefault(a["rel"], a.get("href"))
        if tag == "script":
            self.refs.append((tag, "script", a.get("src") or "(inline)"))


def main(argv):
    if len(argv) < 3:
        print("usage: check_site.py RENDER_SH BOOK_DIR [PAGE:EXAMPLE ...]", file=sys.stderr)
        return 2
    render, book = argv[1], argv[2]
    samples = [s.split(":", 1) for s in argv[3:]]
    if shutil.which("pandoc") is None:
        print("pandoc is not installed: the site cannot be rendered (skipped)")
        return 77

    problems = []
    out = tempfile.mkdtemp(prefix="weft-book-")
    try:
        r = subprocess.run([render, book, out], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"render.sh failed ({r.returncode}):\n{r.stdout}{r.stderr}", file=sys.stderr)
            return 1
        if r.stderr.strip():
            problems.append(f"pandoc warnings:\n{r.stderr.strip()}")

        slugs = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(book, "*.md")))
        for slug in slugs:
            if not os.path.exists(os.path.join(out, slug + ".html")):
                problems.append(f"{slug}.md is not linked from index.md: no page rendered")

        pages = {}
        for path in sorted(glob.glob(os.path.join(out, "*.html"))):
            p = Page()
            with open(path, encoding="utf-8") as f:
                p.feed(f.read())
            pages[os.path.basename(path)] = p

        for name, p in pages.items():
            for tag, attr, value in p.refs:
                if attr == "script":
                    problems.append(f"{name}: a <script> ({value}); the site has no scripts")
                    continue
                url = urllib.parse.urlsplit(value)
                if url.scheme or value.startswith("//"):
                    if tag != "a":
                        problems.append(f"{name}: <{tag} {attr}={value}> fetches from elsewhere")
                    continue  # a link out of the book is the reader's choice to follow
                target = urllib.parse.unquote(url.path) or name
                fs_target = os.path.normpath(os.path.join(out, target))
                if os.path.isdir(fs_target):  # served as its index.html, as a web server does
                    fs_target = os.path.join(fs_target, "index.html")
                if not fs_target.startswith(out + os.sep) or not os.path.isfile(fs_target):
                    problems.append(f"{name}: broken link {value}")
                    continue
                if url.fragment:
                    tp = pages.get(os.path.relpath(fs_target, out))
                    if tp is None or url.fragment not in tp.ids:
                        problems.append(f"{name}: link {value}: no #{url.fragment} there")

        # Navigation: sidebar everywhere, prev/next along the reading order.
        order = ["index"] + [m for m in re.findall(r"\]\(([a-z0-9-]+)\.md\)",
                                                   open(os.path.join(book, "index.md")).read())]
        order = list(dict.fromkeys(order))
        for i, slug in enumerate(order):
            p = pages.get(slug + ".html")
            if p is None:
                continue
            if "book-sidebar" not in p.classes:
                problems.append(f"{slug}.html: no table of contents sidebar")
            want_prev = order[i - 1] + ".html" if i > 0 else None
            want_next = order[i + 1] + ".html" if i + 1 < len(order) else None
            if p.rel.get("prev") != want_prev or p.rel.get("next") != want_next:
                problems.append(f"{slug}.html: prev/next are {p.rel.get('prev')}/"
                                f"{p.rel.get('next')}, want {want_prev}/{want_next}")

        # Samples: every example is built and checked, every shown sample is an example.
        listed = {ex for _, ex in samples}
        for path in sorted(glob.glob(os.path.join(book, "examples", "*.c"))):
            ex = os.path.basename(path)[:-2]
            if ex not in listed:
                problems.append(f"examples/{ex}.c is not in book_samples (tests/book/meson.build)")
        for slug in slugs:
            text = open(os.path.join(book, slug + ".md"), encoding="utf-8").read()
            for m in re.finditer(r"<!-- begin sample.*?examples/([a-z0-9_]+)\.c", text):
                if [slug, m.group(1)] not in samples:
                    problems.append(f"{slug}.md shows examples/{m.group(1)}.c, which is not "
                                    f"in book_samples as [{slug!r}, {m.group(1)!r}]")
    finally:
        shutil.rmtree(out, ignore_errors=True)

    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(pages)} pages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
