#!/usr/bin/env python3
"""Doxygen INPUT_FILTER for squall's headers (see Doxyfile and scripts/docs).

squall's headers are documented with plain // comments, not Doxygen markup. This filter hands Doxygen
the same file with those comments made into documentation, line for line (line numbers are kept, so
warnings point at the real source):
- the comment block at the top of a header is the file's documentation (`#pragma once` after it
  becomes `/// @file`);
- a // comment line right above a declaration documents it; `code;  // text` (or a one-line body
  `... { ... }  // text`) documents that member;
- a // comment right above a run of two or more declarations (no blank line, comment or access
  specifier between them) documents every declaration of the run that has no comment of its own: the run
  becomes a Doxygen member group (`///@{` ... `///@}`, DISTRIBUTE_GROUP_DOC in the Doxyfile), so
  `// Readable bytes.` over data(), size() and view() documents the three (members only: a class or
  struct needs its own comment). Destructors and deleted members ending a run stay out of it. Check what
  a comment ends up documenting with `python3 docs/doxygen_filter.py --groups HEADER`;
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


def scan_literals(text, stop_at_comment):
    """(the characters of `text` outside string/char literals, whether a literal is open at the end);
    with stop_at_comment the scan ends at a // outside literals."""
    out = []
    in_str = None
    i = 0
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == in_str:
                in_str = None
        elif c in "\"'":
            in_str = c
        elif stop_at_comment and text.startswith("//", i):
            break
        else:
            out.append(c)
        i += 1
    return "".join(out), in_str is not None


def code_part_has_string_open(code):
    # True when a // at the end of `code` would sit inside a string or char literal.
    return scan_literals(code, stop_at_comment=False)[1]


ACCESS = re.compile(r"^\s*(public|protected|private)\s*:")


def strip_code(line):
    """The code of a line without string/char literals and a trailing // comment."""
    return scan_literals(line, stop_at_comment=True)[0]


def is_comment(line):
    return line.lstrip().startswith("//")


SCOPE_KEYWORD = re.compile(r"\b(namespace|class|struct|union|enum)\b|extern\s+\"C\"")


def in_function_body(lines):
    """For each line: True when it starts inside a function (or initializer) body, where a comment is
    not documentation. A `{` opens a scope (namespace, class, ...) when its statement names one."""
    result = []
    stack = []
    statement = ""
    for line in lines:
        result.append("body" in stack)
        code = strip_code(line) if not line.lstrip().startswith("#") else ""
        for c in code:
            if c == "{":
                stack.append("scope" if SCOPE_KEYWORD.search(statement) and "(" not in statement else "body")
                statement = ""
            elif c == "}":
                if stack:
                    stack.pop()
                statement = ""
            elif c == ";":
                statement = ""
            else:
                statement += c
        statement += " "
    return result


SPECIAL_MEMBER = re.compile(r"^\s*(virtual\s+)?~\w+\s*\(|=\s*delete\s*;")


def count_decls(run):
    """Declarations that end in run (None when run ends inside a body)."""
    depth = 0
    decls = 0
    for line in run:
        for k, c in enumerate(strip_code(line)):
            if c in "({[":
                depth += 1
            elif c in ")}]":
                depth -= 1
                if depth == 0 and c == "}" and not strip_code(line)[k + 1:].lstrip().startswith(";"):
                    decls += 1
            elif c == ";" and depth == 0:
                decls += 1
    return decls if depth == 0 else 0


def find_groups(lines):
    """(comment start, last line of run, closer) for each comment over a run of 2+ declarations.
    closer is "blank" (the line after the run is blank and becomes the group end) or "append"."""
    groups = []
    body = in_function_body(lines)
    n = len(lines)
    i = 0
    seen_code = False  # the file comment at the top is never a group's comment
    while i < n:
        if not is_comment(lines[i]):
            if lines[i].strip():
                seen_code = True
            i += 1
            continue
        start = i
        while i < n and is_comment(lines[i]):
            i += 1
        if not seen_code or body[start]:
            continue
        depth = 0
        decls = 0
        j = i
        while j < n:
            line = lines[j]
            if depth == 0 and (not line.strip() or is_comment(line) or ACCESS.match(line)):
                break
            if line.lstrip().startswith("#"):
                break
            if depth > 0 and (not line.strip() or is_comment(line)):
                j += 1  # inside a body
                continue
            code = strip_code(line)
            if depth == 0 and code.lstrip().startswith("}"):
                break  # the enclosing scope ends: the run is the lines before
            ended = False
            for k, c in enumerate(code):
                if c in "({[":
                    depth += 1
                elif c in ")}]":
                    depth -= 1
                    if depth == 0 and c == "}" and not code[k + 1:].lstrip().startswith(";"):
                        ended = True
                        decls += 1
                elif c == ";" and depth == 0:
                    decls += 1
                    ended = True
                if depth < 0:
                    break
            if depth < 0:  # the run closes its enclosing scope
                decls = 0
                break
            j += 1
        last = j - 1
        first = lines[start].lstrip()
        plain = not first.startswith("///") and not first.startswith("//!")
        if plain and decls >= 2 and depth == 0 and last >= i:
            # Destructors and deleted members at the end stay out: Doxygen wants no comment
            # on them, and the group's would not be true of them.
            trimmed = False
            while last >= i and SPECIAL_MEMBER.search(lines[last]):
                last -= 1
                trimmed = True
            if not trimmed and j < n and not lines[j].strip():
                groups.append((start, last, "blank"))
            else:
                # `///@}` is appended to the last line that has no trailing comment to collide with;
                # declarations after it keep only their own (trailing) comments.
                while last >= i and "//" in lines[last]:
                    last -= 1
                if last < i or count_decls(lines[i:last + 1]) < 2:
                    continue
                groups.append((start, last, "append"))
            i = j  # comments inside a group's bodies start no group (Doxygen does not nest them)
    return groups


def main(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    opens, closes_blank, closes_append = set(), set(), set()
    for start, last, closer in find_groups(lines):
        opens.add(start)
        (closes_blank if closer == "blank" else closes_append).add(last + 1 if closer == "blank" else last)
    if "--groups" in sys.argv:  # review aid: print each group
        for start, last, _ in find_groups(lines):
            print(f"{path}:{start + 1}:", *lines[start:last + 1], sep="\n  ")
        return
    out = []
    state = {"in_code": False}
    top = True
    for number, line in enumerate(lines):
        if number in closes_blank:
            out.append("///@}")
            continue
        if number in closes_append:
            line += "  ///@}"
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith("//") and not stripped.startswith("///") and not stripped.startswith("//!"):
            text = stripped[2:]
            if text.startswith("/"):
                out.append(line)
                continue
            marker = "///@{" if number in opens else "///"
            out.append(indent + marker + convert_comment_text(text, state))
            continue
        state["in_code"] = False
        if top:
            top = False
            if stripped == "#pragma once" and out:
                out.append("/// @file")
                continue
        # Trailing member comment: `int x = 0;  // text` or `bool f() const { return x_; }  // text`
        # -> `///< text`.
        m = re.match(r"^(.*?[;,}])(\s+)//(?!/)(.*)$", line)
        if m and m.group(1).endswith("}") and ("{" not in m.group(1) or m.group(1).lstrip().startswith("}")):
            m = None  # a closing brace (`}  // namespace squall`), not a one-line body
        if m and not code_part_has_string_open(m.group(1)) and "(" not in m.group(1).split("=")[0][-1:]:
            out.append(m.group(1) + m.group(2) + "///<" + escape_prose(m.group(3)))
            continue
        out.append(line)
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[-1] if sys.argv[-1] != "--groups" else sys.argv[1])
