"""The ``partnerscope`` command: Django's management commands under the project's settings.

``partnerscope --help`` starts with the operational commands (serve, worker, demo, createorg,
createuser, backup, restore), then lists every other command; ``partnerscope COMMAND --help``
explains one. ``python -m partnerscope.cli`` is the same command.
"""

from __future__ import annotations

import os
import sys

OPS_COMMANDS = ["serve", "worker", "demo", "createorg", "createuser", "backup", "restore"]


def _ops_overview() -> str:
    import django
    from django.core.management import load_command_class

    django.setup()
    lines = ["PartnerScope — the system of record for outsourced software development.", ""]
    lines.append("Operational commands (run `partnerscope COMMAND --help` for the options):")
    for name in OPS_COMMANDS:
        try:
            summary = load_command_class("partnerscope.ops", name).help.split(". ")[0].rstrip(".")
        except ImportError:
            summary = "(unavailable)"
        lines.append(f"  {name:<11} {summary}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerscope.settings")
    argv = list(sys.argv[1:] if argv is None else argv)
    from django.core.management import execute_from_command_line

    if argv in ([], ["help"], ["--help"], ["-h"]):
        sys.stdout.write(_ops_overview() + "\n")
        argv = ["help"]
    execute_from_command_line(["partnerscope", *argv])


if __name__ == "__main__":
    main()
