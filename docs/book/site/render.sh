#!/usr/bin/env bash
# docs/book/site/render.sh - render the book (docs/book/*.md) to a static HTML site.
#
#   render.sh BOOK_DIR OUT_DIR
#
# The reading order is the order in which index.md links the chapters (`[..](slug.md)`), so
# the table of contents on index.md is the one place that order is written down. Every page
# gets a sidebar with the whole table of contents, its own section list, and prev/next links
# in reading order. Links between pages are written `slug.md` and become `slug.html`
# (links.lua). The site needs nothing from elsewhere: one stylesheet, no scripts, no fonts.
# The examples/ and images/ folders are copied in, since chapters link their sample files and
# show their figures, and so is every
# lab folder that has a handout (../../labs/NN-name/README.md becomes
# labs/NN-name/index.html), so that a chapter's closing link leads to its lab.
#
# Called by the `book` target (docs/book/meson.build) and by tests/book/check_site.py.
set -euo pipefail

book=${1:?usage: render.sh BOOK_DIR OUT_DIR}
out=${2:?usage: render.sh BOOK_DIR OUT_DIR}
site=$(dirname "${BASH_SOURCE[0]}")

if ! command -v pandoc >/dev/null 2>&1; then
    echo "render.sh: pandoc is not installed (scripts/bootstrap.sh installs it)" >&2
    exit 1
fi
[ -f "$book/index.md" ] || { echo "render.sh: no $book/index.md" >&2; exit 1; }

# The reading order: index, then every page index.md links, once each, in order.
mapfile -t order < <(printf 'index\n'; grep -o '](\([a-z0-9-]*\)\.md)' "$book/index.md" |
    sed 's/^](\(.*\)\.md)$/\1/' | awk '!seen[$0]++ && $0 != "index"')
for slug in "${order[@]}"; do
    [ -f "$book/$slug.md" ] || { echo "render.sh: index.md links $slug.md, which does not exist" >&2; exit 1; }
done

# A page's title: its first level-1 heading, HTML-escaped.
title_of() {
    sed -n 's/^# //p' "$book/$1.md" | head -n 1 |
        sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/`//g'
}
declare -A title
for slug in "${order[@]}"; do
    title[$slug]=$(title_of "$slug")
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
cp "$site/book.css" "$out/"
rm -rf "$out/examples" && cp -r "$book/examples" "$out/examples"
{
    echo '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8" />'
    echo '<title>The samples of the weft book</title><link rel="stylesheet" href="../book.css" /></head>'
    echo '<body><main><h1>The samples of the weft book</h1><p><a href="../index.html">&larr; The weft book</a></p><ul>'
    for f in "$book"/examples/*.c; do
        b=$(basename "$f")
        echo "<li><a href=\"$b\">$b</a></li>"
    done
    echo '</ul></main></body></html>'
} >"$out/examples/index.html"
find "$book" -maxdepth 1 -name '*.svg' -exec cp {} "$out/" \;
# Figures (charts from `weft report --svg`, drawings) live in images/ and are linked from
# the pages as images/NAME.svg.
rm -rf "$out/images"
if [ -d "$book/images" ]; then
    cp -r "$book/images" "$out/images"
fi

labs=$(cd "$book/../../labs" 2>/dev/null && pwd || echo /nonexistent)
export WEFT_BOOK_LABS=$labs

n=${#order[@]}
for ((i = 0; i < n; i++)); do
    slug=${order[i]}
    {
        echo '<nav class="book-sidebar" aria-label="Contents">'
        echo '<a class="book-title" href="index.html">The weft book</a>'
        echo '<ol>'
        for ((j = 1; j < n; j++)); do
            cls=""
            [ "$j" -eq "$i" ] && cls=' class="current"'
            echo "<li$cls><a href=\"${order[j]}.html\">${title[${order[j]}]}</a></li>"
        done
        echo '</ol>'
        echo '</nav>'
    } >"$tmp/sidebar.html"
    {
        echo '<nav class="book-nav" aria-label="Previous and next">'
        if [ "$i" -gt 0 ]; then
            p=${order[i - 1]}
            echo "<a class=\"prev\" rel=\"prev\" href=\"$p.html\">&larr; ${title[$p]}</a>"
        fi
        if [ "$i" -lt $((n - 1)) ]; then
            q=${order[i + 1]}
            echo "<a class=\"next\" rel=\"next\" href=\"$q.html\">${title[$q]} &rarr;</a>"
        fi
        echo '</nav>'
    } >"$tmp/nav.html"
    toc=(--toc --toc-depth=2)
    [ "$slug" = index ] && toc=()
    # --shift-heading-level-by=-1 makes the page's "# Title" the document title. Dollar
    # signs are shell and C, never TeX; quotes and dashes are shown as typed.
    pandoc --from markdown-tex_math_dollars-smart --to html5 --standalone \
        --template "$site/template.html" --shift-heading-level-by=-1 "${toc[@]}" \
        --lua-filter "$site/links.lua" -V root= \
        --include-before-body "$tmp/sidebar.html" --include-before-body "$tmp/nav.html" \
        --include-after-body "$tmp/nav.html" \
        -o "$out/$slug.html" "$book/$slug.md"
done
# The lab handouts, each in a copy of its folder (so that its links to the starter program
# and the grader spec work), with one link back to the book.
rm -rf "$out/labs"
nlabs=0
for handout in "$labs"/*/README.md; do
    [ -f "$handout" ] || continue
    lab=$(basename "$(dirname "$handout")")
    mkdir -p "$out/labs/$lab"
    find "$(dirname "$handout")" -maxdepth 1 -type f -exec cp {} "$out/labs/$lab/" \;
    echo '<nav class="book-nav"><a class="prev" href="../../index.html">&larr; The weft book</a></nav>' >"$tmp/labnav.html"
    pandoc --from markdown-tex_math_dollars-smart --to html5 --standalone \
        --template "$site/template.html" --shift-heading-level-by=-1 \
        --lua-filter "$site/links.lua" -V root=../../ \
        --include-before-body "$tmp/labnav.html" \
        -o "$out/labs/$lab/index.html" "$handout"
    nlabs=$((nlabs + 1))
done
echo "render.sh: ${n} pages and ${nlabs} lab handouts in $out/index.html"
