"""A reviewer in a real browser (headless Chromium) against the production-style server:
gunicorn with DJANGO_DEBUG=false and whitenoise, real PostgreSQL, the S3 server, Redis and a
worker with the real models, photos of real people (../shared/datasets/deepface-pairs).

Persons (the pivot CSV's same-person pairs): A = img1, img6, img10, img11; B = img26, img27;
C = img8, img9, img49.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests import factories
from tests.browser.browser import photo
from tests.conftest import JOB_TIMEOUT

UPLOADS = ("img1", "img6", "img10", "img26", "img27", "img8", "img9", "img49")
PASSWORD = "review-in-a-browser-1"


@dataclass
class Api:
    base: str
    key: str

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method, self.base + path, headers={"X-API-Key": self.key}, timeout=120, **kwargs
        )

    def get(self, path: str, **params) -> dict:
        response = self.call("GET", path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def upload(self, data: bytes) -> str:
        response = self.call("POST", "/api/v1/images", files={"image": ("photo.jpg", data, "image/jpeg")})
        assert response.status_code == 202, response.text
        return response.json()["image_id"]

    def face_of(self, image_id: str) -> str:
        deadline = time.monotonic() + JOB_TIMEOUT
        while time.monotonic() < deadline:
            status = self.get(f"/api/v1/images/{image_id}")
            if status["status"] in ("done", "failed"):
                assert status["status"] == "done" and status["faces"], status
                return status["faces"][0]["face_id"]
            time.sleep(0.3)
        raise TimeoutError(image_id)


def wait(driver, seconds: float = 30) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def images_loaded(driver, selector: str) -> int:
    """Scroll every image of ``selector`` into view (they load lazily) and wait until each has
    pixels; returns how many."""
    driver.execute_script(
        "document.querySelectorAll(arguments[0]).forEach(i => i.scrollIntoView())", selector
    )
    script = (
        "const all = [...document.querySelectorAll(arguments[0])];"
        "return all.length && all.every(i => i.complete && i.naturalWidth > 0) ? all.length : 0"
    )
    count = wait(driver).until(lambda d: d.execute_script(script, selector))
    driver.execute_script("window.scrollTo(0, 0)")
    return count


def message(driver) -> str:
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist li"))).text


def submit(driver, element) -> None:
    """Click a button that posts a form, and wait for the next page: the page that had the
    button may still be there right after the click (with the previous action's message)."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait(driver).until(EC.staleness_of(page))


def login(driver, base: str) -> None:
    driver.get(f"{base}/admin/login/?next=/admin/")
    driver.find_element(By.ID, "id_username").send_keys("reviewer")
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    wait(driver).until(EC.presence_of_element_located((By.ID, "user-tools")))
    # The admin's navigation sidebar folded away, as a reviewer would for wide lists.
    driver.execute_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")


def test_admin_is_styled_and_api_docs_render_offline(gunicorn_server, browser):
    base = gunicorn_server.base
    css = requests.get(f"{base}/static/admin/css/base.css", timeout=30)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert requests.get(f"{base}/static/recognition/review.css", timeout=30).status_code == 200

    browser.get(f"{base}/admin/login/")
    header = browser.execute_script(
        "return getComputedStyle(document.getElementById('header')).backgroundColor"
    )
    assert header not in ("", "transparent", "rgba(0, 0, 0, 0)"), "the admin's CSS did not apply"

    browser.get(f"{base}/api/docs")
    title = wait(browser, 60).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, ".swagger-ui .info .title"))
    )
    assert "facecore API" in title.text
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 10)
    assert browser.find_elements(
        By.XPATH, "//*[contains(@class,'opblock-summary-path') and contains(., '/api/v1/matches')]"
    )
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(url.startswith(base) for url in resources), resources  # nothing from outside


def test_a_reviewer_confirms_rejects_names_and_merges(gunicorn_server, browser, screenshots, shared_photos):
    from django.contrib.auth import get_user_model

    base = gunicorn_server.base
    _, key = factories.application("browser-review")
    get_user_model().objects.create_superuser("reviewer", "reviewer@example.com", PASSWORD)
    api = Api(base, key)
    images = {name: api.upload(photo(shared_photos / f"{name}.jpg")) for name in UPLOADS}
    faces = {name: api.face_of(image_id) for name, image_id in images.items()}
    pairs = api.get("/api/v1/matches", size=500)["matches"]

    def match_of(a: str, b: str) -> int:
        wanted = {faces[a], faces[b]}
        return next(m["match_id"] for m in pairs if {f["face_id"] for f in m["faces"]} == wanted)

    def cluster_of(name: str) -> dict:
        clusters = api.get("/api/v1/clusters")["clusters"]
        return next(c for c in clusters if faces[name] in c["face_ids"])

    login(browser, base)

    # The Faces list: every face with its thumbnail, image, cluster and best match.
    browser.get(f"{base}/admin/images/face/")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == len(UPLOADS)
    assert images_loaded(browser, "#result_list img.fc-thumb") >= len(UPLOADS)
    assert "similarity" in browser.find_element(By.ID, "result_list").text
    screenshots.take(browser, "faces")

    # A face: its crop, the photo with its box, its cluster and its matches.
    browser.find_element(By.LINK_TEXT, faces["img1"][:8]).click()
    images_loaded(browser, ".fc-photo img")
    assert browser.find_element(By.CSS_SELECTOR, ".fc-box").is_displayed()
    assert len(browser.find_elements(By.CSS_SELECTOR, ".fc-matches tbody tr")) >= 2
    screenshots.take(browser, "face")

    # The Matches page: confirm A's img1/img6 as alice, reject B's pair.
    browser.get(f"{base}/admin/recognition/match/")
    images_loaded(browser, "#result_list img.fc-thumb")
    screenshots.take(browser, "matches")
    browser.find_element(By.NAME, "subject").send_keys("alice")
    submit(
        browser,
        browser.find_element(
            By.CSS_SELECTOR, f"button[formaction$='/match/{match_of('img1', 'img6')}/confirm/']"
        ),
    )
    assert "examples of alice" in message(browser)
    submit(
        browser,
        browser.find_element(
            By.CSS_SELECTOR, f"button[formaction$='/match/{match_of('img26', 'img27')}/reject/']"
        ),
    )
    assert "different people" in message(browser)

    # The Clusters page; name C's cluster on its page.
    browser.get(f"{base}/admin/recognition/cluster/")
    images_loaded(browser, "#result_list img.fc-thumb")
    screenshots.take(browser, "clusters")
    browser.get(f"{base}/admin/recognition/cluster/{cluster_of('img8')['cluster_id']}/change/")
    browser.find_element(By.ID, "id_subject_name").send_keys("carl")
    submit(browser, browser.find_element(By.NAME, "_save"))
    assert "examples of carl" in message(browser)
    images_loaded(browser, ".fc-grid img.fc-thumb")
    screenshots.take(browser, "subject")

    # img10 (A) under a second name, then merge the two subjects on the Subjects page.
    browser.get(f"{base}/admin/images/face/{faces['img10']}/change/")
    browser.find_element(By.ID, "id_subject_name").send_keys("alice again")
    submit(browser, browser.find_element(By.NAME, "_save"))
    message(browser)
    browser.get(f"{base}/admin/recognition/subject/")
    row = browser.find_element(By.XPATH, "//tr[.//th//a[text()='alice again']]")
    row.find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("merge_into")
    browser.find_element(By.NAME, "subject").send_keys("alice")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "button[name=index]"))
    assert "into alice" in message(browser)
    images_loaded(browser, "#result_list img.fc-thumb")
    screenshots.take(browser, "subjects")

    browser.get(f"{base}/admin/images/image/{images['img26']}/change/")
    images_loaded(browser, "img")
    assert not browser.find_elements(By.NAME, "_save")  # the image page is read only
    screenshots.take(browser, "image")

    # What the API says now.
    listed = api.get("/api/v1/subjects")["subjects"]
    assert listed == [{"subject": "alice", "face_count": 3}, {"subject": "carl", "face_count": 3}]
    assert api.get("/api/v1/clusters")["clusters"] == []
    b_other = api.get(f"/api/v1/faces/{faces['img27']}")
    assert b_other["rejected_face_ids"] == [faces["img26"]]
    assert faces["img26"] not in {m["face_id"] for m in b_other["matches"]}
    open_pairs = {frozenset(f["face_id"] for f in m["faces"]) for m in api.get("/api/v1/matches")["matches"]}
    assert frozenset((faces["img26"], faces["img27"])) not in open_pairs
    assigned = api.call("POST", f"/api/v1/faces/{faces['img26']}/assign", json={"subject": "bob"})
    assert assigned.status_code == 200, assigned.text
    suggestions = api.get(f"/api/v1/faces/{faces['img27']}")["suggestions"]
    assert "bob" not in {s["subject"] for s in suggestions}  # never proposed for the rejected face
    recognized = api.call(
        "POST", "/api/v1/recognize", files={"image": ("a.jpg", photo(shared_photos / "img11.jpg"))}
    )
    assert recognized.status_code == 200, recognized.text
    assert recognized.json()["faces"][0]["subjects"][0]["subject"] == "alice"
