"""The theory of change as a diagram, laid out on the server, and the framework's integrity warnings.

grandalf's Sugiyama layout places the results in ranks (impact at the top, what contributes to a
result below it) and routes the contribution links; the page draws the result as inline SVG, so
the diagram needs no JavaScript. The warnings name the gaps the evaluations found in these
frameworks: outcomes nobody measures, indicators without a baseline or a target, outputs wired
straight to the impact.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout

from mel.catalog.models import Result
from mel.core.i18n import N_, t

# Drawn at its own size (never scaled down): seven outputs side by side fit a 1366 px screen, and no
# text is smaller than 11 px. Widths are estimated from the characters (about 6 px each at 11 px,
# 6.8 px bold at 12 px): a heading that would overflow its box wraps, a long statement ends in "…"
# with the full text on hover and in the table under the diagram.
NODE_W = 172.0
X_SPACE = 12.0
Y_SPACE = 48.0
MARGIN = 12.0
PAD = 8.0
LINE = 14.0
HEAD_WRAP = int((NODE_W - 2 * PAD) / 6.8)
WRAP = int((NODE_W - 2 * PAD) / 6.0)
MAX_LINES = 4
MAX_HEAD_LINES = 2
NODE_H = PAD + LINE * (1 + MAX_LINES + 1) + PAD + 4  # heading, statement, indicator count
LEVELS = {"impact": N_("Impact"), "outcome": N_("Outcome"), "output": N_("Output")}


@dataclass
class _Box:
    w: float
    h: float
    xy: tuple[float, float] = (0.0, 0.0)


@dataclass
class _Path:
    pts: list[tuple[float, float]] = field(default_factory=list)

    def setpath(self, pts: list[tuple[float, float]]) -> None:
        self.pts = list(pts)


@dataclass(frozen=True)
class Node:
    result: Result
    x: float  # top-left corner
    y: float
    w: float
    h: float
    lines: list[str]
    status: str
    head: list[str] = field(default_factory=list)
    """The heading (level and code), wrapped to the box."""
    indicators: int = 0

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass(frozen=True)
class Link:
    source: str  # the contributing result's code
    target: str  # the result it contributes to
    points: str  # SVG polyline points


@dataclass
class Diagram:
    nodes: list[Node]
    links: list[Link]
    width: float
    height: float


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], textwrap.shorten(rest, width, placeholder="…")]
    return lines


def _lines(result: Result, lang: str, head_lines: int = 1) -> list[str]:
    """The statement, in the lines a one- or two-line heading leaves above the indicator count."""
    return _wrap(result.label(lang), WRAP, MAX_LINES + 1 - head_lines)


def _head(result: Result, lang: str) -> list[str]:
    return _wrap(f"{t(lang, LEVELS.get(result.level, result.level))} {result.code}", HEAD_WRAP, MAX_HEAD_LINES)


def layout(results: list[Result], statuses: dict[int, str], *, lang: str) -> Diagram:
    """Place every result and route every contribution link (many-to-many included)."""
    vertices = {r.id: Vertex(r) for r in results}
    for v in vertices.values():
        v.view = _Box(NODE_W, NODE_H)
    edges = []
    for r in results:
        for target in r.contributes_to:
            if target.id in vertices:
                # drawn from the result contributed to (above) down to the contributor
                edge = Edge(vertices[target.id], vertices[r.id])
                edge.view = _Path()
                edges.append(edge)
    graph = Graph(list(vertices.values()), edges)
    offset = 0.0
    placed: dict[int, tuple[float, float]] = {}
    height = 0.0
    for component in graph.C:
        layout = SugiyamaLayout(component)
        layout.xspace, layout.yspace = X_SPACE, Y_SPACE
        roots = [v for v in component.sV if not v.e_in()]
        layout.init_all(roots=roots or None)
        layout.draw()
        xs = [v.view.xy[0] for v in component.sV]
        left = min(xs) - NODE_W / 2
        for v in component.sV:
            x, y = v.view.xy
            placed[v.data.id] = (x - left + offset, y)
            height = max(height, y + NODE_H / 2)
        for e in component.sE:
            e.view.pts = [(x - left + offset, y) for x, y in e.view.pts]
        offset += max(xs) - min(xs) + NODE_W + X_SPACE * 2
    heads = {r.id: _head(r, lang) for r in results}
    nodes = [
        Node(
            result=r,
            x=placed[r.id][0] + MARGIN - NODE_W / 2,
            y=placed[r.id][1] + MARGIN - NODE_H / 2,
            w=NODE_W,
            h=NODE_H,
            lines=_lines(r, lang, len(heads[r.id])),
            status=statuses.get(r.id, "no_indicator"),
            head=heads[r.id],
            indicators=len(r.indicators),
        )
        for r in results
    ]
    links = []
    for e in edges:
        pts = [(x + MARGIN, y + MARGIN) for x, y in e.view.pts]
        if len(pts) >= 2:
            pts[0] = (pts[0][0], pts[0][1] + NODE_H / 2)
            pts[-1] = (pts[-1][0], pts[-1][1] - NODE_H / 2)
        links.append(
            Link(
                source=e.v[1].data.code,
                target=e.v[0].data.code,
                points=" ".join(f"{x:.1f},{y:.1f}" for x, y in pts),
            )
        )
    return Diagram(nodes, links, width=offset - X_SPACE * 2 + MARGIN * 2, height=height + MARGIN * 2)
