"""The inline SVG maps: zones and points land in the drawing box, north up, shapes kept."""

from __future__ import annotations

from types import SimpleNamespace

from server.web.maps import HEIGHT, MARGIN, WIDTH, draw

SQUARE = {"type": "Polygon", "coordinates": [[[109.0, 32.0], [109.01, 32.0], [109.01, 32.01], [109.0, 32.01],
                                               [109.0, 32.0]]]}


def test_a_point_inside_a_zone_is_drawn_inside_its_outline_north_up():
    zone = SimpleNamespace(name="江北大道片区", geometry=SQUARE)
    drawn = draw([zone], [(109.002, 32.008, "north-west")])
    (x, y, payload), = drawn.points
    xs = [float(p.split(",")[0].lstrip("ML ")) for p in drawn.outlines[0][1].replace(" Z", "").split(" ")]
    assert min(xs) < x < (min(xs) + max(xs)) / 2  # west half
    assert y < HEIGHT / 2 and payload == "north-west"  # north is up
    # 0.01° of longitude at 32°N is shorter than 0.01° of latitude: the square is drawn narrower than tall.
    assert max(xs) - min(xs) < HEIGHT - 2 * MARGIN


def test_a_lone_point_is_centred_and_nothing_to_draw_is_none():
    (x, y, _), = draw([], [(109.0, 32.0, None)]).points
    assert (x, y) == (WIDTH / 2, HEIGHT / 2)
    assert draw([], []) is None
