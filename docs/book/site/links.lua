-- docs/book/site/links.lua - pandoc filter for the links of the book and its lab handouts.
--
-- The Markdown is written so that it reads well on a forge, where links point at source
-- files; the rendered site has HTML pages instead (render.sh):
--   other.md#part                   -> other.html#part      (a page of the book)
--   ../../docs/book/other.md#part   -> ../../other.html#part (from a lab handout to the book)
--   ../../labs/NN-name/README.md    -> labs/NN-name/index.html (from the book to a lab)
--   ../../labs/NN-name/             -> the same
-- A lab that does not exist yet in the source tree (WEFT_BOOK_LABS, set by render.sh) is
-- shown as its name followed by "(not written yet)" rather than as a broken link.
local labs_dir = os.getenv("WEFT_BOOK_LABS") or ""

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

function Link(el)
  local t = el.target
  local page, rest = t:match("^([%w_%-]+)%.md(#?.*)$")
  if page then
    el.target = page .. ".html" .. rest
    return el
  end
  page, rest = t:match("^%.%./%.%./docs/book/([%w_%-]+)%.md(#?.*)$")
  if page then
    el.target = "../../" .. page .. ".html" .. rest
    return el
  end
  local lab = t:match("^%.%./%.%./labs/([%w_%-]+)/README%.md$") or t:match("^%.%./%.%./labs/([%w_%-]+)/?$")
  if lab then
    if exists(labs_dir .. "/" .. lab .. "/README.md") then
      el.target = "labs/" .. lab .. "/index.html"
      return el
    end
    local out = el.content
    table.insert(out, pandoc.Space())
    table.insert(out, pandoc.Emph({pandoc.Str("(not written yet)")}))
    return out
  end
  return el
end
