"""The app lets no one in where they do not belong: a real `sim app` probed as an outsider would, with raw
HTTP requests and, in headless Chromium, with links a stranger could send. No request reads, writes or
deletes outside the app's places (its scenarios, its region files, its uploads, its runs folder and its
packaged front end), whatever its path, headers or link, and none changes what another user's page loads."""

import http.client
import os
import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from app_driver import have_chromium, start_app

from sim.app.drafts import MAX_CHANGES, Draft, Places
from sim.app.server import ASSETS
from sim.common.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SECRET = "hunter2-not-for-the-page"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    runs = tmp_path_factory.mktemp("app-runs")
    home = tmp_path_factory.mktemp("home")  # the server's home folder: nothing may be written there
    secrets = tmp_path_factory.mktemp("elsewhere")  # files a stranger would like to read
    (secrets / "secret.yaml").write_text(f"region: tianjin\npassword: {SECRET}\n", encoding="utf-8")
    (secrets / "secret.csv").write_text(f"indicator,year,value,tolerance,source\n{SECRET},1,1,1,x\n")
    process, url = start_app(runs, 1, env={"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")})
    yield url, runs, home, secrets
    process.terminate()
    output = process.communicate(timeout=60)[0]
    assert "Traceback" not in output, output


def request(url: str, method: str, path: str, headers: dict | None = None) -> tuple[int, str]:
    """A raw request: the path is sent exactly as given (no normalising of '..' or escapes)."""
    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    connection.close()
    return response.status, body


def tree(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))}


def test_headers_cannot_move_the_front_end_for_anyone(server):
    url, *_ = server
    evil = {"X-Script-Name": "//evil.example/x", "Script-Name": "http://evil.example"}
    status, page = request(url, "GET", "/", evil)
    assert status == 200 and "evil" not in page
    _, page = request(url, "GET", "/")  # the next user
    assets = re.findall(r'src="([^"]+)"', page) + re.findall(r'<link[^>]*href="([^"]+)"', page)  # what it loads
    assert assets and not [a for a in assets if a.startswith(("http", "//")) or "evil" in a], assets
    assert any(a.startswith("/_solara/cdn/") for a in assets)


def test_the_front_end_is_served_read_only_and_nothing_else_is_answered(server):
    url, runs, home, _ = server
    before = tree(ASSETS)
    found = {
        "/_solara/cdn/echarts@5.4.0/dist/echarts.js": 200,
        "/_solara/cdn/requirejs@2.3.6/require.js": 200,
        "/_solara/cdn/echarts@5.4.0/licenses": 404,  # a folder: once deleted by a GET
        "/_solara/cdn/echarts@5.4.0/dist": 404,
        "/_solara/cdn/mermaid@10.9.1/dist/mermaid.min.js": 404,  # not bundled: never fetched from the internet
        "/_solara/cdn/../../../../../etc/passwd": 404,
        "/_solara/cdn/..%2f..%2f..%2fserver.py": 404,
        "/_solara/cdn/%2e%2e/%2e%2e/%2e%2e/server.py": 404,
        "/static/../../../../etc/passwd": 404,
        "/jupyter/nbextensions/../../../../etc/passwd": 404,
        "/jupyter/nbextensions/%2e%2e/%2e%2e/%2e%2e/etc/passwd": 404,
        "/resourcez": 404,  # Solara's diagnostics
        "/resourcez?verbose": 404,
        "/jupyter/api/kernels/abc": 404,
        "/_solara/api/evict/abc": 404,
        "/anything-else": 404,
    }
    for path, expected in found.items():
        status, body = request(url, "GET", path)
        assert status == expected, (path, status)
        assert "root:" not in body and "import" not in body[:2000] or path.endswith(".js"), path
    for method in ("DELETE", "PUT", "POST", "PATCH"):
        status, _ = request(url, method, "/_solara/cdn/echarts@5.4.0/dist/echarts.js")
        assert status == 404, method
    status, _ = request(url, "GET", "/?" + "set=x%3D1&" * 2_000)
    assert status == 414  # refused before it is parsed
    assert tree(ASSETS) == before  # nothing written or deleted
    assert not list(home.rglob("*")), list(home.rglob("*"))  # nothing kept in the home folder
    assert all(p.is_relative_to(runs) for p in runs.rglob("*"))


def test_links_name_places_by_key_never_by_path(server):
    """What a link's ``from`` and ``set`` may name, checked without a browser; the same refusals in the
    browser below."""
    _, runs, _, secrets = server
    places = Places(ROOT / "scenarios", None, runs / "app" / "uploads")
    refused = {
        ("file:" + str(secrets / "secret.yaml"),): "must be scenario:NAME, region:KEY, city:NAME or upload:HASH",
        ("scenario:../../" + str(secrets / "secret"),): "not one of this server's scenario files",
        ("scenario:tianjin-14th-fyp/../../x",): "not one of this server's scenario files",
        ("upload:../../x",): "not an upload of this server",
        ("region:" + str(secrets / "secret.yaml"),): "not a packaged region",
        ("city:secret",): "this server has no region files",
        ("region:tianjin", "region=" + str(secrets / "secret.yaml")): "cannot be changed here",
        ("region:tianjin", "observed=" + str(secrets / "secret.csv")): "cannot be changed here",
        ("region:tianjin", "calibration=" + str(secrets / "secret.yaml")): "cannot be changed here",
        ("region:tianjin", "region_file={key: x}"): "cannot be changed here",
    }
    for (source, *changes), message in refused.items():
        with pytest.raises(ScenarioError) as e:
            Draft(source, tuple(changes), places).scenario()
        assert message in str(e.value) and SECRET not in str(e.value) and "\n" not in str(e.value)
    assert Draft("region:tianjin", ("calibration=none",), places).scenario().calibration == "none"
    with pytest.raises(ScenarioError, match="a link here is at most"):
        Draft.from_query("from=region:tianjin&" + "set=seed%3D1&" * 2_000, places)
    with pytest.raises(ScenarioError, match=f"more than {MAX_CHANGES} changes"):
        Draft.from_query("from=region:tianjin" + "&set=seed%3D1" * (MAX_CHANGES + 1), places)


def test_an_upload_over_the_limit_is_never_read(server):
    from sim.app.editing import read_upload

    class Untouchable:
        def read(self, *_):
            raise AssertionError("read")

    with pytest.raises(ScenarioError, match="big.yaml: 50,000,000 bytes; a file here is at most 1,000,000"):
        read_upload({"name": "../big.yaml", "size": 50_000_000, "file_obj": Untouchable()})

    class Liar:  # says it is small, sends more: at most one byte over the limit is read
        asked: list[int] = []

        def read(self, n):
            self.asked.append(n)
            return b"x" * n

    data = read_upload({"name": "small.yaml", "size": 10, "file_obj": Liar()})
    assert Liar.asked == [1_000_001] and len(data) == 1_000_001
    from sim.app.drafts import save_upload

    with pytest.raises(ScenarioError, match="more than 1,000,000 bytes"):
        save_upload(data, "small.yaml", Places(uploads=server[1] / "app" / "uploads"))


@pytest.mark.skipif(not have_chromium() and not os.environ.get("CI"), reason="Chromium is not installed")
def test_a_strangers_links_are_refused_in_place_and_show_nothing_of_the_server(server, tmp_path):
    from app_driver import chromium, text, wait
    from selenium.webdriver.common.by import By

    url, runs, home, secrets = server
    links = {
        f"from=file:{secrets / 'secret.yaml'}": "must be scenario:NAME",
        f"from=file:{secrets}/../../../etc/hostname": "must be scenario:NAME",
        f"from=scenario:{quote('../' * 6)}etc/passwd": "not one of this server's scenario files",
        "from=upload:..%2F..%2Fsecret": "not an upload of this server",
        f"from=region:{secrets / 'secret.yaml'}": "not a packaged region",
        f"from=region:tianjin&set=region%3D{secrets / 'secret.yaml'}": "cannot be changed here",
        f"from=region:tianjin&set=observed%3D{secrets / 'secret.csv'}": "cannot be changed here",
        "from=region:tianjin&" + "set=seed%3D1&" * (MAX_CHANGES + 1): f"more than {MAX_CHANGES} changes",
    }
    d = chromium(tmp_path)
    try:
        for link, message in links.items():
            d.get(f"{url}?{link}")
            notice = wait(lambda: d.find_element(By.CSS_SELECTOR, ".notice").text, 120)
            assert message in notice, (link, notice)
            page = text(d)
            assert SECRET not in page and "Traceback" not in page and "root:" not in page, link
        # a link may ask for more replicates than the server runs: refused when Run is pressed, nothing queued
        d.get(f"{url}?from=region:shengzhou&set=replicates%3D1000")
        wait(lambda: "replicates=1000" in text(d), 120)
        d.find_element(By.CSS_SELECTOR, "button.run").click()
        notice = wait(lambda: d.find_element(By.CSS_SELECTOR, ".notice").text, 120)
        assert "replicates = 1000: at most 20 in one run on this server" in notice
        assert not (runs / "app" / ".jobs").exists() or not any((runs / "app" / ".jobs").iterdir())
    finally:
        d.quit()
    assert not list(home.rglob("*"))
