"""The HTML documents (bulletin, circular) carry a strict Content-Security-Policy, and what
a bearer token reads is never kept by a shared cache."""

from __future__ import annotations

from tests.factories import PASSWORD


def test_an_html_bulletin_is_locked_down(client, bearer, world):
    response = client.get("/api/v1/bulletins/html?start=2026-10-05&end=2026-10-15", headers=bearer("sup", PASSWORD))
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = {part.strip().split(" ")[0]: part.strip() for part in response.headers["Content-Security-Policy"].split(";")}
    assert csp["default-src"] == "default-src 'none'"
    assert "script-src" not in csp and csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-cache"
