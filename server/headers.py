"""Headers every answer carries, set in one place after the view has run.

- ``X-Content-Type-Options: nosniff`` everywhere: a browser takes a JSON answer or a photo for
  what its Content-Type says, never for a script or a page.
- ``Referrer-Policy`` everywhere (REFERRER_POLICY): the API's addresses name records.
- ``Content-Security-Policy`` on every HTML answer (CONTENT_SECURITY_POLICY): the circular and
  the bulletin are documents with an inline style sheet and embedded charts, never scripts,
  forms or frames, so a name in them that smuggles markup cannot act. A blueprint that serves
  pages with the app's own scripts and forms (the web console) names its own policy with
  :func:`set_blueprint_policy`; every other HTML answer keeps the strict one.
- ``Cache-Control`` (AUTHENTICATED_CACHE_CONTROL) on every answer to a request with a bearer
  token, or the console's session cookie, whose view set none: what a caller may read depends on who they are, so no shared
  cache (a city office's proxy) may keep it for the next person. Views that know better (photo
  bytes, content-addressed, ``private, immutable``) set their own, which is kept.
- CORS (CORS_ORIGINS), off unless origins are named: browsers elsewhere may then call the API
  with a bearer token (never cookies: credentials are not allowed) and read the headers a
  client needs (Retry-After, the tus upload headers).
"""

from __future__ import annotations

from flask import Flask, Response, g, request

#: Headers a browser client on another origin needs to read.
EXPOSED_HEADERS = ("Retry-After", "Location", "ETag", "Content-Disposition", "Upload-Offset", "Upload-Length",
                   "Upload-Expires", "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size",
                   "Tus-Checksum-Algorithm")


def set_blueprint_policy(app: Flask, blueprint: str, policy: str) -> None:
    """The Content-Security-Policy of the HTML answers of one blueprint's views."""
    app.extensions.setdefault("xuncha.csp", {})[blueprint] = policy


def init_app(app: Flask) -> None:
    referrer_policy = app.config["REFERRER_POLICY"]
    csp = app.config["CONTENT_SECURITY_POLICY"]
    policies: dict[str, str] = app.extensions.setdefault("xuncha.csp", {})
    private = app.config["AUTHENTICATED_CACHE_CONTROL"]

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", referrer_policy)
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = policies.get(request.blueprint or "", csp)
        # A bearer token, or the console's session cookie (the request's principal is then known).
        authenticated = "Authorization" in request.headers or "principal" in g
        if authenticated and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = private
        return response

    origins = app.config["CORS_ORIGINS"]
    if origins:
        from flask_cors import CORS

        CORS(app, origins=list(origins), supports_credentials=False, expose_headers=list(EXPOSED_HEADERS),
             max_age=app.config["CORS_MAX_AGE"], vary_header=True)
