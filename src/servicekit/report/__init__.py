"""Reports for people: workflow diagrams now; the HTML KPI report with inline SVG charts."""

from servicekit.report.diagrams import CATEGORY_COLOURS, dot, mermaid

__all__ = ["CATEGORY_COLOURS", "dot", "mermaid"]
