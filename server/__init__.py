"""The Xuncha server: ``create_app`` builds a Flask app; nothing happens at import time."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask

from server.clock import Clock, SystemClock

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the app from ``XUNCHA_*`` environment variables, overridden by ``config``.

    Raises :class:`server.settings.ConfigError` naming every missing or invalid setting.
    The scheduler is not started here: it runs as its own process (``xuncha scheduler``).
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    from server import compression, db, headers, web
    from server.api import XunchaApi, api_settings
    from server.attachments import tus, tus_openapi
    from server.attachments.storage import build_storage
    from server.auth.passwords import make_hasher
    from server.auth.throttle import Throttle, build_throttle_storage
    from server.bodies import JSONProvider
    from server.orders import notices as order_notices
    from server.settings import DEMO_HINT, ConfigError, load_settings
    from server.sync import feed, published
    from server.views import BLUEPRINTS

    settings = load_settings(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_DIR"], instance_relative_config=False)
    app.config.update(api_settings())
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY_BYTES"]
    if settings["ENV"] == "production" and app.debug:
        # FLASK_DEBUG=1 or ``xuncha --debug``: the Werkzeug debugger runs any code sent to /console.
        raise ConfigError(f"debug mode (FLASK_DEBUG, --debug) is refused when XUNCHA_ENV=production. "
                          f"{DEMO_HINT}")
    app.json = JSONProvider(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese stays readable on the wire
    logging.basicConfig(level=settings["LOG_LEVEL"])
    if settings["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["TRUSTED_PROXIES"],  # type: ignore[method-assign]
                                x_proto=settings["TRUSTED_PROXIES"])

    app.extensions["xuncha.db"] = db.Database(settings["DATABASE_URL"], pool_size=settings["DATABASE_POOL_SIZE"],
                                                busy_timeout_ms=settings["DATABASE_BUSY_TIMEOUT_MS"])
    app.extensions["xuncha.clock"] = clock or SystemClock()
    app.extensions["xuncha.hasher"] = make_hasher(settings)
    app.extensions["xuncha.throttle"] = Throttle(
        build_throttle_storage(settings["RATELIMIT_STORAGE_URI"], app.extensions["xuncha.db"].engine),
        login_account=settings["LOGIN_RATE_LIMIT"], login_address=settings["LOGIN_ADDRESS_RATE_LIMIT"],
        requests=settings["AUTH_RATE_LIMIT"])
    app.extensions["xuncha.media"] = build_storage(settings)
    app.teardown_appcontext(db.close_session)
    compression.init_app(app)
    headers.init_app(app)
    published.register()
    feed.install()
    order_notices.install()

    api = XunchaApi(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(tus.blp)  # tus resumable photo uploads: plain Flask, not JSON
    tus_openapi.describe(api.spec, app.url_map)
    web.init_app(app)  # the web console: server-rendered pages
    return app
