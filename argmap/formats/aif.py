"""AIF JSON in the AIFdb/OVA shape: I-nodes for claims, RA nodes for supports, CA nodes for
counters, and edges premise → RA/CA → conclusion.

```json
{"nodes": [{"nodeID": "1", "text": "Build trams.", "type": "I"},
           {"nodeID": "2", "text": "Trams are quiet.", "type": "I"},
           {"nodeID": "3", "text": "Default Inference", "type": "RA"}],
 "edges": [{"edgeID": "1", "fromID": "2", "toID": "3"},
           {"edgeID": "2", "fromID": "3", "toID": "1"}],
 "locutions": []}
```

Only published claims are exported (AIF has no claim status). On import the graph must be a
tree: one root I-node (the thesis), every other I-node the premise of exactly one RA or CA node,
each RA/CA node linking one premise to one conclusion. Locution (L), transition (TA), illocution
(YA) and rephrase (MA) nodes of OVA files, and the edges touching them, are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from argmap.formats.common import PUBLISHED_ONLY, export_tree, narrow, new_document, title_from
from argmap.interchange import DocumentError, Plan, plan_document
from argmap.models import ArgumentMap, Claim

AIF_NOT_JSON = "This is not JSON: {problem} (line {line}, column {column})."
AIF_NOT_OBJECT = "The file must be a JSON object with 'nodes' and 'edges' lists."
AIF_BAD_NODE = "nodes[{index}]: a node needs a 'nodeID' and a 'type'."
AIF_DUPLICATE_NODE = "node {id!r}: the nodeID is used twice."
AIF_UNKNOWN_TYPE = "node {id!r}: unknown node type {type!r} (expected I, RA or CA)."
AIF_BAD_EDGE = "edges[{index}]: an edge needs a 'fromID' and a 'toID'."
AIF_UNKNOWN_NODE = "edge {edge!r}: node {id!r} does not exist."
AIF_EDGE_SHAPE = "edge {edge!r}: edges run between an I-node and an RA/CA node, not {types}."
AIF_SCHEME_SHAPE = (
    "node {id!r}: an {type} node links exactly one premise to one conclusion "
    "(found {premises} premises and {conclusions} conclusions)."
)
AIF_NOT_TREE = (
    "node {id!r}: the claim is the premise of {count} relations; a map is a tree, so each claim "
    "supports or counters exactly one parent."
)
AIF_NO_ROOT = "The graph has no root: every claim is the premise of a relation (a cycle)."
AIF_SEVERAL_ROOTS = (
    "node {id!r}: a second root claim besides node {first!r} (a map has one thesis)."
)
AIF_CYCLE = "node {id!r}: its relations form a cycle ({chain})."
AIF_NO_CLAIMS = "The file has no I-nodes (claims)."

SCHEMES = {
    Claim.Stance.SUPPORT: ("RA", "Default Inference"),
    Claim.Stance.COUNTER: ("CA", "Default Conflict"),
}
_STANCE_OF = {"RA": Claim.Stance.SUPPORT, "CA": Claim.Stance.COUNTER}
_IGNORED_TYPES = {"L", "TA", "YA", "MA", "PA"}


def export(argument_map: ArgumentMap, *, statuses: Collection[str] | None = None) -> str:
    """The map's published claims as an AIF JSON graph."""
    document, root = export_tree(argument_map, statuses=narrow(statuses, PUBLISHED_ONLY))
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    next_id = iter(range(1, 10**9))
    ids: dict[Any, str] = {}
    for node, _depth in root.walk():
        claim = node.claim
        ids[claim["id"]] = node_id = str(next(next_id))
        nodes.append(
            {"nodeID": node_id, "text": claim["text"], "type": "I", "timestamp": claim["created"]}
        )
        if claim["parent"] is None:
            continue
        kind, text = SCHEMES[claim["stance"]]
        scheme_id = str(next(next_id))
        nodes.append(
            {"nodeID": scheme_id, "text": text, "type": kind, "timestamp": claim["created"]}
        )
        edges.append({"edgeID": str(len(edges) + 1), "fromID": node_id, "toID": scheme_id})
        edges.append(
            {"edgeID": str(len(edges) + 1), "fromID": scheme_id, "toID": ids[claim["parent"]]}
        )
    graph = {
        "nodes": nodes,
        "edges": edges,
        "locutions": [],
        # Not part of AIF; AIFdb ignores it, and Argmap reads the title back from it.
        "argmap": {"slug": document["map"]["slug"], "title": document["map"]["title"]},
    }
    return json.dumps(graph, ensure_ascii=False, indent=2) + "\n"


def parse(text: str) -> Plan:
    """Read an AIF JSON graph; unknown node ids, non-tree graphs, several roots and cycles are
    refused naming the node."""
    try:
        graph = json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentError(
            [AIF_NOT_JSON.format(problem=error.msg, line=error.lineno, column=error.colno)]
        ) from error
    if (
        not isinstance(graph, dict)
        or not isinstance(graph.get("nodes"), list)
        or not isinstance(graph.get("edges"), list)
    ):
        raise DocumentError([AIF_NOT_OBJECT])
    errors: list[str] = []
    kinds: dict[str, str] = {}
    texts: dict[str, Any] = {}
    for index, raw in enumerate(graph["nodes"]):
        if not isinstance(raw, dict) or raw.get("nodeID") in (None, "") or not raw.get("type"):
            errors.append(AIF_BAD_NODE.format(index=index))
            continue
        node_id, kind = str(raw["nodeID"]), str(raw["type"])
        if node_id in kinds:
            errors.append(AIF_DUPLICATE_NODE.format(id=node_id))
            continue
        if kind not in ("I", "RA", "CA", *_IGNORED_TYPES):
            errors.append(AIF_UNKNOWN_TYPE.format(id=node_id, type=kind))
        kinds[node_id] = kind
        texts[node_id] = raw.get("text")
    premises: dict[str, list[str]] = {}  # scheme -> I-nodes flowing into it
    conclusions: dict[str, list[str]] = {}  # scheme -> I-nodes it flows into
    premise_of: dict[str, list[str]] = {}  # I-node -> schemes it flows into
    for index, raw in enumerate(graph["edges"]):
        if not isinstance(raw, dict) or raw.get("fromID") is None or raw.get("toID") is None:
            errors.append(AIF_BAD_EDGE.format(index=index))
            continue
        edge = str(raw.get("edgeID", index))
        source, target = str(raw["fromID"]), str(raw["toID"])
        missing = [node for node in (source, target) if node not in kinds]
        for node in missing:
            errors.append(AIF_UNKNOWN_NODE.format(edge=edge, id=node))
        if missing:
            continue
        pair = (kinds[source], kinds[target])
        if pair[0] in _IGNORED_TYPES or pair[1] in _IGNORED_TYPES:
            continue
        if pair[0] == "I" and pair[1] in _STANCE_OF:
            premises.setdefault(target, []).append(source)
            premise_of.setdefault(source, []).append(target)
        elif pair[0] in _STANCE_OF and pair[1] == "I":
            conclusions.setdefault(source, []).append(target)
        else:
            errors.append(AIF_EDGE_SHAPE.format(edge=edge, types=f"{pair[0]} → {pair[1]}"))
    claims = [node for node, kind in kinds.items() if kind == "I"]
    for node, kind in kinds.items():
        if kind in _STANCE_OF:
            found = (len(premises.get(node, [])), len(conclusions.get(node, [])))
            if found != (1, 1):
                errors.append(
                    AIF_SCHEME_SHAPE.format(
                        id=node, type=kind, premises=found[0], conclusions=found[1]
                    )
                )
    parent: dict[str, tuple[str, str]] = {}  # I-node -> (parent I-node, stance)
    for node in claims:
        schemes = premise_of.get(node, [])
        if len(schemes) > 1:
            errors.append(AIF_NOT_TREE.format(id=node, count=len(schemes)))
        elif schemes and len(conclusions.get(schemes[0], [])) == 1:
            parent[node] = (conclusions[schemes[0]][0], _STANCE_OF[kinds[schemes[0]]])
    roots = [node for node in claims if not premise_of.get(node)]
    if not claims:
        errors.append(AIF_NO_CLAIMS)
    elif not roots:
        errors.append(AIF_NO_ROOT)
    for extra in roots[1:]:
        errors.append(AIF_SEVERAL_ROOTS.format(id=extra, first=roots[0]))
    errors.extend(_cycles(parent))
    if errors:
        raise DocumentError(errors)
    meta = graph.get("argmap") if isinstance(graph.get("argmap"), dict) else {}
    thesis = roots[0]
    document = new_document(
        slug=str(meta.get("slug") or "imported"),
        title=str(meta.get("title") or title_from(str(texts[thesis] or ""))),
    )
    # Roots first, then each claim after its parent, keeping the file's order among siblings.
    order = {node: index for index, node in enumerate(claims)}
    for node in sorted(claims, key=lambda n: (_depth(n, parent), order[n])):
        up, stance = parent.get(node, (None, None))
        document["claims"].append(
            {
                "id": f"node {node}",
                "parent": None if up is None else f"node {up}",
                "stance": stance,
                "text": texts[node],
            }
        )
    return plan_document(document)


def _depth(node: str, parent: dict[str, tuple[str, str]]) -> int:
    depth = 0
    while node in parent:
        node = parent[node][0]
        depth += 1
    return depth


def _cycles(parent: dict[str, tuple[str, str]]) -> list[str]:
    """Every cycle in the parent relation, once, named by its first node."""
    errors: list[str] = []
    done: set[str] = set()
    for start in parent:
        path: list[str] = []
        seen: set[str] = set()
        node = start
        while node in parent and node not in done and node not in seen:
            seen.add(node)
            path.append(node)
            node = parent[node][0]
        if node in seen:
            loop = [*path[path.index(node) :], node]
            errors.append(AIF_CYCLE.format(id=node, chain=" → ".join(loop)))
        done.update(path)
    return errors
