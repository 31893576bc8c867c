"""Asking before a destructive action: the same POST again, with confirmed=yes.

Without JavaScript the question is a page of its own; with htmx its block takes the place
of the button that asked (templates/editor/confirm.html).
"""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from ..htmx import render


def confirmed() -> bool:
    """Whether the user already answered the question (only the exact answer counts)."""
    return request.form.get("confirmed") == "yes"


def ask(
    title: str, message: str, action: str, confirm_label: str, cancel: str, danger: bool = True
) -> Response:
    """The question: `action` is POSTed again with confirmed=yes; `cancel` leads back."""
    return render(
        "editor/confirm.html", block="confirmation", confirm_title=title, message=message,
        action=action, confirm_label=confirm_label, cancel=cancel, danger=danger,
    )  # fmt: skip
