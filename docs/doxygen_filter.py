#!/usr/bin/env python3
"""Doxygen INPUT_FILTER for squall's headers (see Doxyfile and scripts/docs).

squall's headers are documented with plain // comments, not Doxygen markup. This filter hands Doxygen
the same file with those comments made into documentation, line for line (line numbers are kept, so
warnings point at the real source):
- the comment block at the top of a header is the file's documentation (`#pragma once` after it
  becomes `/// @file`);
- a // comment line right above a declaration documents it; `code;  // text` documents that member;
- indented lines in a comment (5 or more spaces after //) are code examples, passed as code blocks;
- in prose, characters Doxygen would read as markup (<, >, @, \\, &, #, %) are escaped, text between
  backticks is left as inline code.
"""
import re
import sys

ESCAPES = str.maketrans({"\\": "\\\\", "<": "\\<", ">": "\\>", "@": "\\@", "&": "\\&", "#": "\\#",
                         "%": "\\%", "$": "\\$"})


def escape_prose(text):
    # Keep `inline code` as is; escape the rest.
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(p if p.startswith("`") and p.endswith("`") and len(p) > 1 else p.translate(ESCAPES)
                   for p in parts)


def convert_comment_text(text, state):
    """text: what follows // (no leading slash). Returns the doc text."""
    if text.startswith("     ") or (state["in_code"] and text.startswith(" ") and text.strip()):
        state["in_code"] = True  # a code example line (indented 4+ beyond the usual one space)
        return text
    state["in_code"] = False
    return escape_prose(text)


def code_part_has_string_open(code):
    # True when a // at the end of `code` would sit inside a string or char literal.
    in_str = None
    i = 0
    while i < len(code):
        c = code[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == in_str:
                in_str = None
        elif c in "\"'":
            in_str = c
        i += 1
    return in_str is not None


def main(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    state = {"in_code": False}
    top = True
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith("//") and not stripped.startswith("///") and not stripped.startswith("//!"):
            text = stripped[2:]
            if text.startswith("/"):
                out.append(line)
                continue
            out.append(indent + "///" + convert_comment_text(text, state))
            continue
        state["in_code"] = False
        if top:
            top = False
            if stripped == "#pragma once" and out:
                out.append("/// @file")
                continue
        # Trailing member comment: `int x = 0;  // text` -> `///< text`.
        m = re.match(r"^(.*?[;,])(\s+)//(?!/)(.*)$", line)
        if m and not code_part_has_string_open(m.group(1)) and "(" not in m.group(1).split("=")[0][-1:]:
            out.append(m.group(1) + m.group(2) + "///<" + escape_prose(m.group(3)))
            continue
        out.append(line)
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
