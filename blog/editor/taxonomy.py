"""The categories and tags page: counts, create, rename, address, merge, delete (editors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth.permissions import require_role
from ..content import taxonomy as terms
from ..htmx import is_fragment_request, render
from ..models import Role
from ..routing import form_id
from . import bp
from .confirm import ask, confirmed

TEMPLATE = "editor/taxonomy.html"
KIND = "<any(category, tag):kind>"


def _page(status: int = 200, **context: Any) -> Response:
    """The page; for htmx, only the part that holds the lists and forms."""
    sections = [(kind, terms.terms_with_counts(kind)) for kind in terms.KINDS]
    context = {"messages": [], "errors": {}, "typed": {}, "merge_offer": None, **context}
    response = render(TEMPLATE, block="taxonomy", status=status, sections=sections, **context)
    if is_fragment_request():
        # The delete button swaps only itself (for the confirmation); results replace all.
        response.headers["HX-Retarget"] = "#taxonomy"
        response.headers["HX-Reswap"] = "outerHTML"
    return response


def _change(
    key: str, typed: Any, change: Callable[[], terms.TermChange], source: Any = None
) -> Response:
    """Make the change and say what happened; a refusal comes back with the text typed."""
    try:
        done = change()
    except terms.TaxonomyError as refused:
        offer = None
        if source is not None and refused.existing is not None:
            offer = (terms.kind_of(source), source, refused.existing)
        return _page(422, messages=[("error", str(refused))], errors={key: str(refused)},
                     typed={key: typed}, merge_offer=offer)  # fmt: skip
    if is_fragment_request():
        return _page(messages=[("message", done.message)])
    flash(done.message)
    return redirect(url_for("editor.taxonomy"), code=303)


def _term_or_404(kind: str, term_id: int) -> terms.Term:
    term = terms.term_by_id(kind, term_id)
    if term is None:
        abort(404)
    return term


@bp.get("/taxonomy")
@require_role(Role.EDITOR)
def taxonomy() -> Response:
    return _page()


@bp.post(f"/taxonomy/{KIND}")
@require_role(Role.EDITOR)
def create_term(kind: str) -> Response:
    name = request.form.get("name", "")
    return _change(f"create-{kind}", name, lambda: terms.create_term(kind, name, current_user))


@bp.post(f"/taxonomy/{KIND}/<int:term_id>/rename")
@require_role(Role.EDITOR)
def rename_term(kind: str, term_id: int) -> Response:
    term, name = _term_or_404(kind, term_id), request.form.get("name", "")
    return _change(f"rename-{kind}-{term_id}", name,
                   lambda: terms.rename_term(term, name, current_user), source=term)  # fmt: skip


@bp.post(f"/taxonomy/{KIND}/<int:term_id>/slug")
@require_role(Role.EDITOR)
def term_slug(kind: str, term_id: int) -> Response:
    term, slug = _term_or_404(kind, term_id), request.form.get("slug", "")
    return _change(f"slug-{kind}-{term_id}", slug,
                   lambda: terms.set_slug(term, slug, current_user))  # fmt: skip


@bp.post(f"/taxonomy/{KIND}/merge")
@require_role(Role.EDITOR)
def merge_terms(kind: str) -> Response:
    source_id, target_id = form_id(request.form.get("source")), form_id(request.form.get("target"))
    source, target = terms.term_by_id(kind, source_id), terms.term_by_id(kind, target_id)
    return _change(f"merge-{kind}", (source_id, target_id),
                   lambda: terms.merge_terms(kind, source, target, current_user))  # fmt: skip


@bp.post(f"/taxonomy/{KIND}/<int:term_id>/delete")
@require_role(Role.EDITOR)
def delete_term(kind: str, term_id: int) -> Response:
    term = _term_or_404(kind, term_id)
    used = terms.usage_count(term)
    if used and not confirmed():
        return ask(
            _("Delete “%(name)s”?", name=term.name), terms.delete_question(term, used),
            url_for("editor.delete_term", kind=kind, term_id=term.id), _("Delete"),
            url_for("editor.taxonomy"),
        )  # fmt: skip
    return _change(f"delete-{kind}-{term_id}", "", lambda: terms.delete_term(term, current_user))
