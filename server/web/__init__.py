"""The web console: server-rendered pages for supervisors, unit liaisons and inspectors.

Views call the same services as the JSON API; text comes from :mod:`server.web.text`; the
login session and its CSRF check live in :mod:`server.web.session`; the office's setup pages
in :mod:`server.web.setup` and :mod:`server.web.imports`. Every asset is served by
the app itself (``static/``, vendored scripts under ``static/vendor/``): the console may run on
an intranet with no way out.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from server import headers
    # The office's pages join the console's blueprint.
    from server.web import bulletins, circulars, holidays, imports, people, results, session, setup  # noqa: F401
    from server.web.views import blp

    session.init_app(app)
    app.register_blueprint(blp)
    headers.set_blueprint_policy(app, blp.name, app.config["CONSOLE_CONTENT_SECURITY_POLICY"])
