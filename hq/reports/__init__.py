"""Head-office reports: one module per report, each a keyword-only data function returning
a pydantic model. The back-office page, its CSV download and its ``/v1/reports/...`` JSON
endpoint all call the same function, so the three can never disagree.
"""

from hq.reports.summary import Summary, TerminalSummary, summary

__all__ = ["Summary", "TerminalSummary", "summary"]
