"""Argdown (https://argdown.org): claims are statements, supports and counters are support and
attack relations, written as the indented relation tree Argdown reads.

```
===
title: "Trams or buses?"
slug: "trams"
===

[c1]: Build trams.
  + [c2]: Trams are quiet. {"quote": {"exact": "Trams are quiet.", "start": 0, "end": 16}}
    - [c4]: Not on cobbles.
  - [c3]: Trams cost a lot. {"status": "archived"}
```

Each statement is titled ``c`` plus the claim's id; ``+ [child]`` under a statement means the
child supports it, ``- [child]`` that it attacks (counters) it. The map's title, slug, description
and source article sit in the front matter; a claim's quote and any status other than published
sit in its data block. Values in both are JSON (which Argdown reads as YAML), with braces, ``=``
and non-ASCII characters escaped so that Argdown's tokens cannot end early. Characters that
Argdown would read as markup in a claim's text are escaped with a backslash.

Import reads back exactly this subset: front matter of ``key: JSON`` lines, one statement per
line, a relation tree indented by two spaces per level.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from argmap.formats.common import LineErrors, export_tree, new_document, title_from
from argmap.interchange import Plan, plan_document
from argmap.models import ArgumentMap, Claim

INDENT = "  "
ARGDOWN_FRONT_MATTER_UNCLOSED = "the front matter opened with '===' is never closed."
ARGDOWN_FRONT_MATTER_LINE = "front matter lines are 'key: JSON value', not {line!r}."
ARGDOWN_BAD_JSON = "{what} is not valid JSON: {problem}."
ARGDOWN_NOT_STATEMENT = "expected a statement like '[c1]: text' or '+ [c2]: text', found {line!r}."
ARGDOWN_SECOND_THESIS = "a second top-level statement {title!r}: a map has one thesis ({first!r})."
ARGDOWN_THESIS_RELATION = "the thesis {title!r} cannot have a relation sign ('+' or '-')."
ARGDOWN_NO_RELATION = "statement {title!r} needs '+' (supports) or '-' (attacks) before it."
ARGDOWN_BAD_INDENT = (
    "statement {title!r} is indented {found} spaces; expected at most {most} "
    "(two spaces per level)."
)
ARGDOWN_DUPLICATE_TITLE = "statement title {title!r} is used twice (first on line {first})."
ARGDOWN_EMPTY = "The file has no statements: the thesis must be a line like '[c1]: text'."
ARGDOWN_BAD_DATA = "the data block of {title!r} must be a JSON object."

# Characters that start Argdown tokens inside a statement's text; escaped with a backslash.
_ALWAYS_ESCAPE = set("\\@#*_[]<>{}()/=+~`|")
# '.' and ':' begin shortcodes (':+1:', '.ok.') only when text follows them directly.
_ESCAPE_BEFORE_TEXT = set(".:")
_STATEMENT = re.compile(
    r"^(?P<indent> *)(?:(?P<sign>[+-]) +)?\[(?P<title>[^\]]+)\]:[ \t]*(?P<rest>.*)$"
)


def escape_text(text: str) -> str:
    """A claim's text with every Argdown control character escaped (text is one line)."""
    out = []
    for index, char in enumerate(text):
        following = text[index + 1] if index + 1 < len(text) else " "
        if (
            char in _ALWAYS_ESCAPE
            or (char in "-," and index == 0)
            or (char in _ESCAPE_BEFORE_TEXT and not following.isspace())
        ):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def unescape_text(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _json_value(value: Any) -> str:
    """JSON that Argdown's YAML reader takes as the same value and its lexer cannot cut short."""
    encoded = json.dumps(value, ensure_ascii=True, separators=(", ", ": "))
    # Inside strings only (JSON's own braces stay): escape what ends Argdown's data and front
    # matter tokens. Outside strings the dump has no '=' and no '\x7f'.
    out, in_string, escaped = [], False, False
    for char in encoded:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            elif char in "{}=\x7f":
                out.append(f"\\u{ord(char):04x}")
                continue
        elif char == '"':
            in_string = True
        out.append(char)
    return "".join(out)


def export(argument_map: ArgumentMap, *, statuses: Collection[str] | None = None) -> str:
    """The map as an Argdown document of statements and support/attack relations."""
    document, root = export_tree(argument_map, statuses=statuses)
    meta = document["map"]
    lines = ["==="]
    lines.append(f"title: {_json_value(meta['title'])}")
    lines.append(f"slug: {_json_value(meta['slug'])}")
    if meta.get("description"):
        lines.append(f"description: {_json_value(meta['description'])}")
    source = document["source"]
    if source is not None:
        kept = {key: source[key] for key in ("title", "publisher", "url", "published", "text")}
        lines.append(f"source: {_json_value(kept)}")
    lines += ["===", ""]
    for node, depth in root.walk():
        claim = node.claim
        sign = "" if claim["parent"] is None else ("+ " if claim["stance"] == "support" else "- ")
        data: dict[str, Any] = {}
        if claim["status"] != Claim.Status.PUBLISHED:
            data["status"] = claim["status"]
        if claim["quote"] is not None:
            data["quote"] = claim["quote"]
        tail = f" {_json_value(data)}" if data else ""
        title = f"c{claim['id']}"
        lines.append(f"{INDENT * depth}{sign}[{title}]: {escape_text(claim['text'])}{tail}")
    return "\n".join(lines) + "\n"


def parse(text: str) -> Plan:
    """Read the Argdown subset Argmap writes; anything else is refused naming the line."""
    problems = LineErrors()
    lines = text.splitlines()
    meta: dict[str, Any] = {}
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start < len(lines) and lines[start].strip().startswith("==="):
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("===")), None
        )
        if end is None:
            problems.add(start + 1, ARGDOWN_FRONT_MATTER_UNCLOSED)
            problems.raise_if_any()
        for index in range(start + 1, end):
            line = lines[index].strip()
            if not line:
                continue
            key, colon, value = line.partition(":")
            if not colon or not key.strip().isidentifier():
                problems.add(index + 1, ARGDOWN_FRONT_MATTER_LINE.format(line=line))
                continue
            try:
                meta[key.strip()] = json.loads(value)
            except json.JSONDecodeError as error:
                what = f"front matter {key.strip()!r}"
                problems.add(index + 1, ARGDOWN_BAD_JSON.format(what=what, problem=error.msg))
        start = end + 1
    document = new_document(
        slug=str(meta.get("slug") or "imported"),
        title=str(meta.get("title") or ""),
        description=str(meta.get("description") or ""),
    )
    if isinstance(meta.get("source"), dict):
        document["source"] = meta["source"]
    stack: list[str] = []  # titles of the current ancestors, one per depth
    seen: dict[str, int] = {}
    for index in range(start, len(lines)):
        raw = lines[index].rstrip()
        number = index + 1
        if not raw.strip() or raw.strip().startswith("//"):
            continue
        match = _STATEMENT.match(raw.replace("\t", INDENT))
        if match is None:
            problems.add(number, ARGDOWN_NOT_STATEMENT.format(line=raw.strip()[:80]))
            continue
        title, sign = match.group("title"), match.group("sign")
        indent = len(match.group("indent"))
        if title in seen:
            problems.add(number, ARGDOWN_DUPLICATE_TITLE.format(title=title, first=seen[title]))
            continue
        seen[title] = number
        body, data = _split_data(match.group("rest"), title, number, problems)
        claim: dict[str, Any] = {"id": title, "text": unescape_text(body).strip()}
        if data.get("status"):
            claim["status"] = data["status"]
        if data.get("quote"):
            claim["quote"] = data["quote"]
        if indent == 0:
            if sign:
                problems.add(number, ARGDOWN_THESIS_RELATION.format(title=title))
            if stack:
                problems.add(number, ARGDOWN_SECOND_THESIS.format(title=title, first=stack[0]))
                continue
            stack = [title]
            claim.update(parent=None, stance=None)
        else:
            depth, odd = divmod(indent, len(INDENT))
            if odd or depth > len(stack) or not stack:
                most = len(INDENT) * len(stack)
                problems.add(
                    number, ARGDOWN_BAD_INDENT.format(title=title, found=indent, most=most)
                )
                continue
            if not sign:
                problems.add(number, ARGDOWN_NO_RELATION.format(title=title))
                continue
            del stack[depth:]
            claim.update(
                parent=stack[-1],
                stance=Claim.Stance.SUPPORT if sign == "+" else Claim.Stance.COUNTER,
            )
            stack.append(title)
        document["claims"].append(claim)
    if not document["claims"] and not problems.errors:
        problems.add(start + 1, ARGDOWN_EMPTY)
    problems.raise_if_any()
    if not document["map"]["title"]:
        document["map"]["title"] = title_from(document["claims"][0]["text"])
    return plan_document(document)


def _split_data(
    rest: str, title: str, number: int, problems: LineErrors
) -> tuple[str, dict[str, Any]]:
    """Split '<text> {json}' into the text and the data block (a trailing unescaped '{…}')."""
    stripped = rest.rstrip()
    if not stripped.endswith("}"):
        return stripped, {}
    # The data block starts at the first unescaped '{' (escaped braces belong to the text).
    index, opening = 0, None
    while index < len(stripped):
        if stripped[index] == "\\":
            index += 2
            continue
        if stripped[index] == "{":
            opening = index
            break
        index += 1
    if opening is None:
        return stripped, {}
    try:
        data = json.loads(stripped[opening:])
    except json.JSONDecodeError as error:
        what = f"the data block of {title!r}"
        problems.add(number, ARGDOWN_BAD_JSON.format(what=what, problem=error.msg))
        return stripped[:opening], {}
    if not isinstance(data, dict):
        problems.add(number, ARGDOWN_BAD_DATA.format(title=title))
        return stripped[:opening], {}
    return stripped[:opening], data
