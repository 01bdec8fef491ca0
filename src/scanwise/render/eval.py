"""The `scanwise eval` report in the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape


def print_report(report: dict[str, Any], out: Console) -> None:
    out.print(f"[bold]scanwise eval[/] — knowledge base {report['kb_version']}, "
              f"{report['scenarios']} scenarios in {report['seconds']} s")
    out.print(f"Top-1 variant accuracy: [bold]{report['top1_accuracy']:.1%}[/]; scenarios passing "
              f"every check: {report['all_checks_passed']}/{report['scenarios']}")
    out.print(f"Confidently wrong (wrong top-1, no ambiguity, branch or plain abstention shown): "
              f"[bold]{report['confidently_wrong']}[/]; declined (no variant where one was expected): "
              f"[bold]{report['declined']}[/]; branches shown: {report['branches_shown']} "
              f"({report['branches_where_text_decides']} where the set expects one variant)")
    for style, v in report["by_style"].items():
        out.print(f"  style {style:<12} top-1 {v['top_correct']}/{v['scenarios']}, "
                  f"confidently wrong {v['confidently_wrong']}, declined {v['declined']}")
    for key, v in report["by_check"].items():
        out.print(f"  {key:<18} {v['correct']:>3}/{v['total']:<3} {v['accuracy']:.1%}")
    for f in report["failures"]:
        out.print(f"  [red]✗[/] {escape(f['id'])}: failed {', '.join(f['failed'])}; expected "
                  f"{f['expected_top']}, got {f['got_top']} (phase {f['phase']}, purpose {f['purpose']})")
