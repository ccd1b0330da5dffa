"""``/widget.js``: one script joined from ``static/widget/``, cached by ETag;
``/console``: marked when no session came with it.

The widget in a browser (that the joined script runs) is tested in
``tests/e2e/test_widget_browser.py``; here the hub's side of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import aiohttp
import pytest

from bot.web import pages
from tests.conftest import shared_hub

hub = shared_hub(on_databases=False)


def test_every_file_of_the_widget_folder_is_a_part_once() -> None:
    on_disk = sorted(path.name for path in pages.WIDGET_DIR.iterdir())
    assert sorted(pages.WIDGET_PARTS) == on_disk
    assert len(set(pages.WIDGET_PARTS)) == len(pages.WIDGET_PARTS)


def test_the_parts_open_and_close_one_function() -> None:
    first = (pages.WIDGET_DIR / pages.WIDGET_PARTS[0]).read_text(encoding="utf-8")
    last = (pages.WIDGET_DIR / pages.WIDGET_PARTS[-1]).read_text(encoding="utf-8")
    assert "\n(() => {\n'use strict';\n" in first
    assert last.endswith("\n})();\n")


async def test_widget_js_is_the_parts_in_order_and_revalidates(hub) -> None:
    joined = b"".join(
        (pages.WIDGET_DIR / name).read_bytes() for name in pages.WIDGET_PARTS
    )
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{hub.url}/widget.js") as response:
            assert response.status == 200
            assert await response.read() == joined
            assert response.headers["Content-Type"].startswith("application/javascript")
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert response.headers["Cache-Control"] == "no-cache"
            etag = response.headers["ETag"]
        for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            async with session.get(
                f"{hub.url}/widget.js", headers={"If-None-Match": sent}
            ) as response:
                assert response.status == 304, sent
                assert await response.read() == b""
                assert response.headers["ETag"] == etag
        async with session.get(
            f"{hub.url}/widget.js", headers={"If-None-Match": '"other"'}
        ) as response:
            assert response.status == 200
            assert await response.read() == joined


async def test_a_changed_part_is_served_with_a_new_etag(
    hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "widget"
    shutil.copytree(pages.WIDGET_DIR, folder)
    monkeypatch.setattr(pages, "WIDGET_DIR", folder)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{hub.url}/widget.js") as response:
            before = await response.read()
            etag = response.headers["ETag"]
        part = folder / "text.js"
        part.write_text(part.read_text(encoding="utf-8") + "// changed\n")
        async with session.get(
            f"{hub.url}/widget.js", headers={"If-None-Match": etag}
        ) as response:
            assert response.status == 200
            assert response.headers["ETag"] != etag
            after = await response.read()
        assert b"// changed\n" in after and b"// changed\n" not in before
        assert after.index(b"// changed\n") < after.index(b"widget.js, part style.js")
        (folder / "status.js").unlink()
        async with session.get(f"{hub.url}/widget.js") as response:
            assert response.status == 404
            body = await response.json()
        assert body["error"]["message"] == "widget.js is not available"


@pytest.mark.parametrize(
    ("cookie", "signed_out"), [({}, True), ({"baton_session": "expired"}, False)]
)
async def test_the_console_page_says_when_no_session_came_with_it(
    hub, cookie: dict[str, str], signed_out: bool
) -> None:
    """Without a session cookie the page's script shows the sign-in form at
    once, instead of asking ``/api/auth/me`` for a 401 the browser logs as an
    error; with one (even one that ran out) it asks, to say which it was."""
    async with aiohttp.ClientSession(cookies=cookie) as session:
        async with session.get(f"{hub.url}/console") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/html")
            assert response.headers["Cache-Control"] == "no-store"
            page = await response.text()
    assert ('<html lang="en" data-session="none">' in page) is signed_out
    assert page.count("<html") == 1
