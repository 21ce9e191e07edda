"""Generate a large synthetic map, deterministically, through the interchange format and services.

Used by ``bench/`` and for trying the app on a big map. The map has the shape real maps have: a
bushy top (some claims with more children than a page shows), branching that thins out with depth,
a few long chains, mixed stances, and a generated article with most claims quoting a sentence of it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from argmap import services
from argmap.interchange import FORMAT, DocumentError, plan_document
from argmap.models import ArgumentMap, Source

MAX_DEPTH = 15  # the thesis is depth 0
CHAINS = 3  # long chains that reach MAX_DEPTH
SUPPORT_SHARE = 0.6
ANCHORED_SHARE = 0.7
CLAIM_CHARS = (40, 200)
SENTENCE_CHARS = (60, 220)
ARTICLE_MIN_BYTES = 5_000
ARTICLE_BYTES_PER_CLAIM = 40
ARTICLE_MAX_BYTES = 900_000  # below the 1 MB cap with room for the last block

MAP_EXISTS = "A map with the slug {slug!r} exists; pass --replace to regenerate it."

# Vocabulary for plausible sentences; kept as compact tables.
# fmt: off
_DETERMINERS = ["the", "the", "the", "a", "this", "that", "every", "no", "each", "any"]
_ADJECTIVES = [
    "regional", "military", "economic", "diplomatic", "strategic", "local", "public",
    "national", "fragile", "costly", "rapid", "gradual", "credible", "hostile", "stable",
    "uncertain", "limited", "broad", "modern", "defensive", "naïve", "decisive", "shared",
    "formal", "quiet", "open", "sudden", "lasting", "narrow", "independent", "official",
    "informal", "western",
]
_NOUNS = [
    "alliance", "border", "treaty", "policy", "deterrent", "exclave", "budget", "market",
    "government", "council", "agreement", "conflict", "strategy", "region", "population",
    "sanction", "election", "report", "ministry", "parliament", "coalition", "economy",
    "union", "exercise", "pipeline", "harbour", "corridor", "garrison", "summit", "détente",
    "dialogue", "escalation", "ceasefire", "committee", "court", "press", "neighbour", "port",
    "railway", "doctrine", "deployment", "negotiation", "rhetoric", "warning", "guarantee",
    "incident",
]
_VERBS = [
    "weakens", "strengthens", "undermines", "supports", "threatens", "delays", "accelerates",
    "reshapes", "limits", "protects", "provokes", "deters", "legitimises", "isolates", "funds",
    "blocks", "shapes", "signals", "raises", "lowers", "complicates", "justifies", "reflects",
    "ignores", "replaces", "exposes", "secures", "tests", "outlasts", "contradicts",
]
_CONNECTORS = [
    ", and", ", but", ", because", ", while", ", so", " – and yet", ", although", ", since",
    ", whereas", " as long as",
]
_MODIFIERS = [
    "in the long run", "for now", "in practice", "at the margins", "over time", "by design",
    "in most cases", "on paper", "within a year", "more than expected", "at great cost",
]
# fmt: on


@dataclass(slots=True)
class _Node:
    index: int
    parent: int | None
    depth: int


def _phrase(rng: random.Random) -> str:
    words = [rng.choice(_DETERMINERS)]
    if rng.random() < 0.6:
        words.append(rng.choice(_ADJECTIVES))
    words.append(rng.choice(_NOUNS))
    if rng.random() < 0.3:
        words += ["of", rng.choice(_DETERMINERS), rng.choice(_NOUNS)]
    elif rng.random() < 0.1:
        words[-1] += "’s " + rng.choice(_NOUNS)
    return " ".join(words)


def _clause(rng: random.Random) -> str:
    clause = f"{_phrase(rng)} {rng.choice(_VERBS)} {_phrase(rng)}"
    if rng.random() < 0.3:
        clause += " " + rng.choice(_MODIFIERS)
    return clause


def sentence(rng: random.Random, low: int, high: int) -> str:
    """A plausible sentence of ``low``..``high`` characters, ending in a full stop."""
    target = rng.randint(low, high)
    text = _clause(rng)
    while len(text) + 1 < target:
        more = f"{rng.choice(_CONNECTORS)} {_clause(rng)}"
        if len(text) + len(more) + 1 > high:
            more = " " + rng.choice(_MODIFIERS)
            if len(text) + len(more) + 1 > high:
                break
        text += more
    while len(text) + 1 < low:  # only for a `high` too small for another clause
        text += " " + rng.choice(_MODIFIERS)
    text = text[: high - 1].rstrip(" ,")
    return text[0].upper() + text[1:] + "."


def _heading(rng: random.Random) -> str:
    words = [rng.choice(_ADJECTIVES), rng.choice(_NOUNS)]
    if rng.random() < 0.6:
        words += ["and", "the", rng.choice(_NOUNS)]
    return " ".join(words).capitalize()


def generate_article(rng: random.Random, target_bytes: int) -> tuple[str, list[tuple[int, int]]]:
    """Headed sections of paragraphs and bullet lists; returns the text and its sentence spans.

    A few sentences are repeated on purpose, as articles repeat a pull quote: anchors carry
    offsets, so a quote of a repeated sentence still names one place.
    """
    blocks: list[str] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    size = 0
    previous: list[str] = []

    def add_block(lines: list[str], sentences: list[list[str]], prefix: str) -> None:
        """Append lines; ``sentences[i]`` are line i's sentences, after ``prefix``."""
        nonlocal offset, size
        if blocks:
            offset += 2  # the blank line between blocks
        for number, (line, parts) in enumerate(zip(lines, sentences, strict=True)):
            cursor = offset + len(prefix)
            for part in parts:
                spans.append((cursor, cursor + len(part)))
                cursor += len(part) + 1
            offset += len(line) + (1 if number < len(lines) - 1 else 0)
        block = "\n".join(lines)
        blocks.append(block)
        size += len(block.encode("utf-8")) + 2

    def pick_sentence() -> str:
        if previous and rng.random() < 0.01:
            return rng.choice(previous)
        made = sentence(rng, *SENTENCE_CHARS)
        previous.append(made)
        return made

    section_left = 0
    while size < target_bytes:
        if section_left == 0:
            heading = _heading(rng)
            add_block([heading], [[]], "")
            section_left = rng.randint(3, 6)
            continue
        section_left -= 1
        if rng.random() < 0.2:
            items = [pick_sentence() for _ in range(rng.randint(2, 5))]
            add_block([f"- {item}" for item in items], [[item] for item in items], "- ")
        else:
            parts = [pick_sentence() for _ in range(rng.randint(3, 7))]
            add_block([" ".join(parts)], [parts], "")
    return "\n\n".join(blocks), spans


def _scale(desired: list[int], available: int, rng: random.Random) -> list[int]:
    """Shrink ``desired`` proportionally so it sums to ``available``, rounding fairly."""
    total = sum(desired)
    scaled = [count * available // total for count in desired]
    short = available - sum(scaled)
    candidates = [
        i for i, (want, got) in enumerate(zip(desired, scaled, strict=True)) if want > got
    ]
    for i in rng.sample(candidates, short):
        scaled[i] += 1
    return scaled


def _branching(rng: random.Random, depth: int) -> int:
    if depth == 0:
        return rng.randint(8, 20)
    if depth == 1:
        return rng.randint(5, 20)
    mean = max(0.5, 4.5 * 0.72 ** (depth - 2))
    return min(25, int(rng.expovariate(1 / mean)))


def generate_shape(rng: random.Random, count: int) -> list[_Node]:
    """The tree: ``count`` nodes, parents before children, node 0 the thesis."""
    nodes = [_Node(0, None, 0)]
    remaining = count - 1
    reserve = min(remaining // 4, CHAINS * (MAX_DEPTH - 2))
    budget = remaining - reserve

    def add(parent: _Node) -> _Node:
        node = _Node(len(nodes), parent.index, parent.depth + 1)
        nodes.append(node)
        return node

    level, depth = [nodes[0]], 0
    while budget > 0 and level and depth < MAX_DEPTH:
        desired = [_branching(rng, depth) for _ in level]
        if not any(desired):
            desired[rng.randrange(len(desired))] = 1
        if sum(desired) > budget:
            desired = _scale(desired, budget, rng)
        budget -= sum(desired)
        level = [add(parent) for parent, k in zip(level, desired, strict=True) for _ in range(k)]
        depth += 1
    # A few long chains down to MAX_DEPTH, hanging from second-level claims where there are any.
    starts = [n for n in nodes if n.depth == 2] or [n for n in nodes if n.depth < MAX_DEPTH]
    reserve += budget  # anything the levels left over
    while reserve > 0:
        node = rng.choice(starts)  # every start is above MAX_DEPTH: each pass adds a claim
        while reserve > 0 and node.depth < MAX_DEPTH:
            node = add(node)
            reserve -= 1
    return nodes


def build_document(*, slug: str, claims: int, seed: int, title: str | None = None) -> dict:
    """An ``argmap/1`` document for a synthetic map of ``claims`` claims; same seed, same map."""
    if claims < 1:
        raise ValueError("A map has at least its thesis.")
    rng = random.Random(seed)
    target = min(max(ARTICLE_MIN_BYTES, claims * ARTICLE_BYTES_PER_CLAIM), ARTICLE_MAX_BYTES)
    article, spans = generate_article(rng, target)
    nodes = generate_shape(rng, claims)
    sibling_texts: dict[int | None, set[str]] = {}
    children_seen: dict[int | None, int] = {}
    documents: list[dict[str, Any]] = []
    for node in nodes:
        seen = sibling_texts.setdefault(node.parent, set())
        text = sentence(rng, *CLAIM_CHARS)
        while text.casefold() in seen:
            text = sentence(rng, *CLAIM_CHARS)
        seen.add(text.casefold())
        if node.parent is None:
            stance = None
        else:
            # The thesis opens with one of each stance; after that, 60/40.
            nth = children_seen[node.parent] = children_seen.get(node.parent, -1) + 1
            if node.parent == 0 and nth < 2:
                stance = ("support", "counter")[nth]
            else:
                stance = "support" if rng.random() < SUPPORT_SHARE else "counter"
        quote = None
        if rng.random() < ANCHORED_SHARE:
            start, end = rng.choice(spans)
            quote = {"exact": article[start:end], "start": start, "end": end}
        documents.append(
            {
                "id": f"c{node.index}",
                "parent": None if node.parent is None else f"c{node.parent}",
                "stance": stance,
                "text": text,
                "quote": quote,
            }
        )
    return {
        "format": FORMAT,
        "map": {
            "slug": slug,
            "title": title or f"Synthetic map of {claims:,} claims (seed {seed})",
            "description": "Generated by manage.py generate_map for benchmarks and trials.",
            "featured": False,
        },
        "source": {
            "title": f"Generated article (seed {seed}, {len(article.encode('utf-8')):,} bytes)",
            "publisher": "generate_map",
            "url": "",
            "published": None,
            "text": article,
        },
        "claims": documents,
    }


@transaction.atomic
def delete_map(slug: str) -> int:
    """Delete the map and, if no other map cites it, its source. Returns the claims removed."""
    argument_map = ArgumentMap.objects.filter(slug=slug).first()
    if argument_map is None:
        return 0
    source_id = argument_map.source_id
    claims = argument_map.claims.count()
    argument_map.delete()
    if source_id is not None and not ArgumentMap.objects.filter(source_id=source_id).exists():
        Source.objects.filter(pk=source_id).delete()
    return claims


class Command(BaseCommand):
    help = "Generate a deterministic synthetic map of N claims with a generated source article."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--claims", type=int, required=True, help="How many claims in all.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--title", default=None)
        parser.add_argument(
            "--replace", action="store_true", help="Delete an existing map of this slug first."
        )

    def handle(self, *args, slug: str, claims: int, seed: int, title, replace: bool, **options):
        if claims < 1:
            raise CommandError("--claims must be at least 1 (the thesis).")
        started = time.perf_counter()
        exists = ArgumentMap.objects.filter(slug=slug).exists()
        if exists and not replace:
            raise CommandError(MAP_EXISTS.format(slug=slug))
        document = build_document(slug=slug, claims=claims, seed=seed, title=title)
        built_at = time.perf_counter()
        try:
            plan = plan_document(document)
        except DocumentError as error:  # a generator bug, not a user error
            problems = "\n  ".join(error.errors)
            raise CommandError(f"The generated document is invalid:\n  {problems}") from error
        planned_at = time.perf_counter()
        # One transaction: if the import fails, the map being replaced is still there.
        with transaction.atomic():
            removed = delete_map(slug) if exists else 0
            deleted_at = time.perf_counter()
            try:
                argument_map = services.map_import(plan=plan, reason=f"Generated (seed {seed})")
            except ValidationError as error:
                raise CommandError(f"Refused, nothing changed: {error}") from error
        imported_at = time.perf_counter()

        anchored = sum(1 for claim in plan.claims if claim.quote is not None)
        depth = max(claim.depth for claim in plan.claims)
        article_bytes = len(document["source"]["text"].encode("utf-8"))
        if removed:
            self.stdout.write(f"Replaced map {slug!r} ({removed:,} claims deleted).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated map {slug!r} (id {argument_map.pk}): {len(plan.claims):,} claims, "
                f"depth {depth}, {anchored:,} anchored, article {article_bytes:,} bytes."
            )
        )
        self.stdout.write(
            f"Time {imported_at - started:.2f} s: generate {built_at - started:.2f}, "
            f"validate {planned_at - built_at:.2f}, delete {deleted_at - planned_at:.2f}, "
            f"import {imported_at - deleted_at:.2f}."
        )
