"""The portal's routes (SPEC "The employees' channels"):

- ``GET /`` the intake form (fields named after ``new``'s options, a ``screenshot`` file
  field, a CSRF token in a hidden field matched against the visitor's signed cookie);
  ``POST /`` records the ticket and redirects to its private page, or, with the
  "look for a solution" button, shows matching knowledge-base articles first.
- ``GET /kb/suggest?q=`` the articles matching what is typed (JSON, for the form's
  script); ``GET /kb/<slug>`` an article; ``POST /kb/<slug>/solved`` counts a problem
  solved by it.
- ``GET /t/<token>`` the ticket's private page: status, progress, the solution;
  ``POST /t/<token>`` adds the employee's comment.
- ``GET /healthz`` answers 200.
- ``POST /hooks/dingtalk``, ``/hooks/feishu``, ``/hooks/wecom`` (and WeCom's ``GET``
  URL check): the chat robots' callbacks, verified and recorded by
  :mod:`itdesk.service.chat`; 404 for a platform the desk has not set up, 403 forged.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import Flask, abort, jsonify, redirect, render_template, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ..errors import ItdeskError
from ..service.portal import (
    PORTAL,
    FormProblem,
    Links,
    check_known,
    comment,
    count_solved,
    load_secret,
    public_steps,
    report,
)
from ..service.session import Session
from .words import LANGS, STATUS_WORDS, WORDS

MAX_UPLOAD = 10 * 1024 * 1024  # a screenshot
MAX_FORM = 64 * 1024  # the form's text fields together


def create_app(
    desk_path: str | os.PathLike[str] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    env: Mapping[str, str] | None = None,
) -> Flask:
    """The portal for the desk at ``desk_path``; ``clock`` gives the time recorded (the
    real clock when None)."""
    from ..store.desk import Desk

    desk = Desk.open(desk_path)
    check_known(desk)
    root = desk.root
    secrets_env = os.environ if env is None else env
    secret = load_secret(desk, secrets_env)
    links = Links(desk, secret)
    app = Flask(__name__)
    app.secret_key = hmac.new(secret, b"itdesk portal session", "sha256").digest()
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_UPLOAD + MAX_FORM,
        MAX_FORM_MEMORY_SIZE=MAX_FORM,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )

    def open_session() -> Session:
        return Session.open(root, as_name=PORTAL, now=clock() if clock else None)

    def lang() -> str:
        asked = request.args.get("lang")
        if asked in LANGS:
            session["lang"] = asked
        chosen = session.get("lang")
        if chosen in LANGS:
            return str(chosen)
        return "zh" if Desk.open(root).policy.locale == "zh" else "en"

    def csrf_token() -> str:
        token = session.get("csrf")
        if not isinstance(token, str):
            token = secrets.token_urlsafe(32)
            session["csrf"] = token
        return token

    def check_csrf() -> None:
        sent = request.form.get("csrf_token", "")
        kept = session.get("csrf")
        if not isinstance(kept, str) or not hmac.compare_digest(sent, kept):
            abort(400)

    def page(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
        code = lang()
        return (
            render_template(
                template,
                w=WORDS[code],
                lang=code,
                other="en" if code == "zh" else "zh",
                csrf=csrf_token(),
                status_words=STATUS_WORDS[code],
                **values,
            ),
            status,
        )

    def suggestions(text: str) -> list[dict[str, str]]:
        from ..service.kb import suggest

        return [
            {"slug": slug, "title": title}
            for slug, title, _ in suggest(Desk.open(root), text[:2000], limit=5)
        ]

    def problem(exc: ItdeskError) -> tuple[str, str | None]:
        field = exc.field if isinstance(exc, FormProblem) else None
        words = WORDS[lang()]
        return words.get(f"err_{field}", str(exc)), field

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.get("/")
    def form() -> tuple[str, int]:
        return page("form.html", values={}, found=None, error=None, field=None)

    @app.post("/")
    def submit() -> Response | tuple[str, int]:
        check_csrf()
        values = {k: v for k, v in request.form.items() if k != "csrf_token"}
        if request.form.get("action") == "look":
            text = " ".join(filter(None, (values.get("title"), values.get("description"))))
            return page("form.html", values=values, found=suggestions(text), error=None,
                        field=None)  # fmt: skip
        upload = request.files.get("screenshot")
        shot = (upload.filename or "", upload.read(MAX_UPLOAD + 1)) if upload else None
        try:
            change = report(open_session(), values, shot)
        except ItdeskError as exc:
            message, field = problem(exc)
            return page("form.html", 400, values=values, found=None, error=message, field=field)
        return redirect(f"/t/{links.token(change.ticket.id)}?new=1", 303)

    @app.get("/kb/suggest")
    def kb_suggest() -> Response:
        return jsonify(suggestions(request.args.get("q", "")))

    @app.get("/kb/<slug>")
    def article(slug: str) -> tuple[str, int]:
        from ..service.kb import read_article

        try:
            found = read_article(Desk.open(root), slug)
        except ItdeskError:
            abort(404)
        return page("article.html", article=found)

    @app.post("/kb/<slug>/solved")
    def solved(slug: str) -> tuple[str, int]:
        check_csrf()
        try:
            count_solved(Desk.open(root), slug)
        except ItdeskError:
            abort(404)
        return page("solved.html")

    def ticket_page(token: str, status: int = 200, **values: Any) -> tuple[str, int]:
        ticket_id = links.ticket_id(token)
        if ticket_id is None:
            abort(404)
        try:
            ticket = Desk.open(root).read(ticket_id)
        except ItdeskError:
            abort(404)
        return page(
            "ticket.html",
            status,
            ticket=ticket,
            steps=public_steps(ticket),
            token=token,
            new=request.args.get("new") == "1",
            **values,
        )

    @app.get("/t/<token>")
    def follow(token: str) -> tuple[str, int]:
        return ticket_page(token, error=None, done=request.args.get("done") == "1")

    @app.post("/t/<token>")
    def add_comment(token: str) -> Response | tuple[str, int]:
        check_csrf()
        ticket_id = links.ticket_id(token)
        if ticket_id is None:
            abort(404)
        try:
            comment(open_session(), ticket_id, request.form.get("comment", ""))
        except ItdeskError as exc:
            message, _ = problem(exc)
            return ticket_page(token, 400, error=message, done=False)
        return redirect(f"/t/{token}?done=1", 303)

    @app.route("/hooks/<platform>", methods=["GET", "POST"])
    def hook(platform: str) -> Response:
        import time

        from ..service import chat

        if (request.content_length or 0) > chat.MAX_BODY:
            return Response("too large\n", 413, mimetype="text/plain")
        req = chat.Request(
            request.method,
            {k.lower(): v for k, v in request.headers.items()},
            {k: v for k, v in request.args.items()},
            request.get_data(cache=False)[: chat.MAX_BODY + 1],
        )
        robot = chat.CHAT_ROBOT

        def chat_session() -> Session:
            return Session.open(root, as_name=robot, now=clock() if clock else None)

        try:
            answer = chat.handle(
                Desk.open(root), platform, secrets_env, req, int(time.time() * 1000), chat_session
            )
        except chat.Refused as exc:
            return Response(f"{exc}\n", exc.status, mimetype="text/plain")
        except ItdeskError as exc:
            return Response(f"{exc}\n", 400, mimetype="text/plain")
        return Response(answer.body, 200, mimetype=answer.mimetype)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        code = exc.code or 500
        key = {400: "bad_request", 404: "not_found", 413: "too_large"}.get(code, "error_title")
        return page("error.html", code, message=WORDS[lang()][key])

    return app
