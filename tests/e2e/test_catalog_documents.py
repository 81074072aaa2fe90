"""Documents of specialized offers: uploaded (multipart or raw), type- and size-checked, stored on disk under
DOCUMENTS_DIR, required for approval, and never served to another province."""
import hashlib
import os
import shutil
import tempfile
import time
import uuid

import pytest
from nameko.testing.services import entrypoint_hook
from sqlalchemy.exc import OperationalError

from kit import db as kit_db
from kit import geo

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def documents_dir(system):
    """Point the catalog at a directory of this test's own (the containers read their config per call)."""
    path = tempfile.mkdtemp(prefix="khademyar-docs-")
    before = system.config.get("DOCUMENTS_DIR")
    system.config["DOCUMENTS_DIR"] = path
    yield path
    if before is None:
        system.config.pop("DOCUMENTS_DIR", None)
    else:
        system.config["DOCUMENTS_DIR"] = before
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def specialized(flows, office):
    """A member with a pending offer of a specialized service (requires documents), and its reviewer."""
    admin = flows.admin()
    tag = uuid.uuid4().hex[:8]
    f = flows.api.post("/fields", {"name": f"عرصه تخصصی {tag}", "kind": "specialized"}, token=admin).json["id"]
    s = flows.api.post(f"/fields/{f}/services", {"name": "مشاوره حقوقی", "description": "مشاوره رایگان حقوقی",
                                                 "requires_documents": True}, token=admin).json["id"]
    v = flows.volunteer(office["9"], field=(f, s))
    o = flows.api.post("/me/offers", {"service": s, "details": "مشاوره حضوری در کانون", "phone": "09151112233"},
                       token=v["token"])
    assert o.status == 201, o
    thematic = flows.cached_staff("thematic_center", "9", county=v["county"], field=f)
    return dict(v, offer=o.json["id"], thematic=thematic)


def _upload_raw(api, token, offer, content, ctype="application/octet-stream"):
    return api.call("POST", f"/offers/{offer}/documents", data=content, token=token,
                    headers={"Content-Type": ctype, "X-Filename": "certificate"})


def test_a_specialized_offer_needs_its_documents_before_approval(system, api, specialized, documents_dir):
    v = specialized
    refused = api.post(f"/offers/{v['offer']}/approve", token=v["thematic"])
    assert refused.status == 409 and refused.json["code"] == "documents_required"
    # multipart/form-data, as a browser sends it
    up = api.call("POST", f"/offers/{v['offer']}/documents", token=v["token"],
                  files={"file": ("مدرک.pdf", PDF, "application/pdf")})
    assert up.status == 201, up
    assert up.json["content_type"] == "application/pdf" and up.json["size"] == len(PDF)
    assert up.json["sha256"] == hashlib.sha256(PDF).hexdigest()
    # the raw body with its Content-Type, as a mobile client may send it
    raw = _upload_raw(api, v["token"], v["offer"], PNG, "image/png")
    assert raw.status == 201 and raw.json["content_type"] == "image/png", raw
    # stored on disk under DOCUMENTS_DIR/<province>/<offer>/
    stored = os.listdir(os.path.join(documents_dir, "9", v["offer"]))
    assert sorted(name.rsplit(".", 1)[1] for name in stored) == ["pdf", "png"]
    listed = api.get(f"/offers/{v['offer']}/documents", token=v["thematic"])
    assert [d["id"] for d in listed.json["items"]] == [up.json["id"], raw.json["id"]]
    got = api.call("GET", f"/offers/{v['offer']}/documents/{up.json['id']}", token=v["thematic"])
    assert got.status == 200 and got.raw.content == PDF
    assert got.headers["Content-Type"] == "application/pdf" and got.headers["X-Content-Type-Options"] == "nosniff"
    assert api.post(f"/offers/{v['offer']}/approve", token=v["thematic"]).json["status"] == "approved"
    assert api.get("/me/offers", token=v["token"]).json["items"][0]["documents"] == 2


def test_documents_are_type_and_size_checked(api, specialized, documents_dir):
    v = specialized
    exe = _upload_raw(api, v["token"], v["offer"], b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")
    assert exe.status == 422 and exe.json["code"] == "unsupported_document_type"
    text = api.call("POST", f"/offers/{v['offer']}/documents", token=v["token"],
                    files={"file": ("note.pdf", b"just text, not a pdf", "application/pdf")})
    assert text.status == 422
    big = _upload_raw(api, v["token"], v["offer"], PDF + b"0" * (5 * 1024 * 1024), "application/pdf")
    assert big.status == 413, big
    exactly = _upload_raw(api, v["token"], v["offer"], JPEG + b"0" * (5 * 1024 * 1024 - len(JPEG)), "image/jpeg")
    assert exactly.status == 201 and exactly.json["size"] == 5 * 1024 * 1024
    empty = _upload_raw(api, v["token"], v["offer"], b"", "application/pdf")
    assert empty.status == 400
    assert os.listdir(os.path.join(documents_dir, "9", v["offer"])) == [f"{exactly.json['id']}.jpg"]


def test_documents_are_never_served_to_another_province_or_person(api, flows, office, specialized, documents_dir):
    v = specialized
    doc = _upload_raw(api, v["token"], v["offer"], PDF, "application/pdf").json["id"]
    path = f"/offers/{v['offer']}/documents/{doc}"
    # the member, the reviewing centre and the province's office read it
    for token in (v["token"], v["thematic"], office["9"], flows.admin()):
        assert api.call("GET", path, token=token).status == 200
    # another province's office and thematic centre: 404; another member: 404; a neighbourhood centre: 403
    tehran_thematic = flows.cached_staff("thematic_center", "23", county=sorted(geo.counties_of("23"))[0],
                                         field=v["field"])
    other_member = flows.member(office["9"])
    for token in (office["23"], tehran_thematic, other_member["token"]):
        assert api.call("GET", path, token=token).status == 404
        assert api.get(f"/offers/{v['offer']}/documents", token=token).status == 404
    centre = flows.cached_staff("neighborhood_center", "9", county=v["county"], center="کانون محله آزمون")
    assert api.call("GET", path, token=centre).status == 403
    # nobody uploads to someone else's offer
    assert _upload_raw(api, other_member["token"], v["offer"], PDF, "application/pdf").status == 404
    assert _upload_raw(api, office["9"], v["offer"], PDF, "application/pdf").status == 403


# -- the file and its row: never one without the other
def _files(documents_dir):
    return sorted(os.path.relpath(os.path.join(folder, name), documents_dir)
                  for folder, _dirs, names in os.walk(documents_dir) for name in names)


def test_a_failing_commit_or_refusal_leaves_no_file(system, api, specialized, documents_dir, monkeypatch):
    v = specialized
    catalog = system.database("catalog")
    real_commit = kit_db.DatabaseWorker.commit

    def failing_commit(worker):
        if worker.provider is catalog and worker.worker_ctx.entrypoint.method_name == "upload_document":
            raise OperationalError("COMMIT", {}, Exception("disk I/O error (test)"))
        return real_commit(worker)

    monkeypatch.setattr(kit_db.DatabaseWorker, "commit", failing_commit)
    failed = _upload_raw(api, v["token"], v["offer"], PDF, "application/pdf")
    monkeypatch.setattr(kit_db.DatabaseWorker, "commit", real_commit)
    assert failed.status == 500, failed
    assert _files(documents_dir) == []  # written under a temporary name, removed with the rollback
    assert api.get(f"/offers/{v['offer']}/documents", token=v["token"]).json["items"] == []
    # refusals after the checks of the bytes (the offer no longer active) leave nothing either
    kept = _upload_raw(api, v["token"], v["offer"], PNG, "image/png")
    assert kept.status == 201, kept
    assert api.post(f"/me/offers/{v['offer']}/withdraw", token=v["token"]).status == 200
    late = _upload_raw(api, v["token"], v["offer"], PDF, "application/pdf")
    assert late.status == 409 and late.json["code"] == "offer_not_active"
    assert _files(documents_dir) == [os.path.join("9", v["offer"], f"{kept.json['id']}.png")]


def test_a_crash_between_commit_and_move_is_finished_and_strays_are_tidied(system, api, specialized, documents_dir):
    v = specialized
    doc = _upload_raw(api, v["token"], v["offer"], PDF, "application/pdf").json["id"]
    folder = os.path.join(documents_dir, "9", v["offer"])
    final = os.path.join(folder, f"{doc}.pdf")
    # the process died after the commit, before the move: the whole file is still under its temporary name
    os.replace(final, final + ".part")
    got = api.call("GET", f"/offers/{v['offer']}/documents/{doc}", token=v["thematic"])
    assert got.status == 200 and got.raw.content == PDF
    assert os.listdir(folder) == [f"{doc}.pdf"]  # the read finished the move
    # and the hourly tidy: a committed one is moved into place, one never committed is removed, a young one waits
    second = _upload_raw(api, v["token"], v["offer"], PNG, "image/png").json["id"]
    committed = os.path.join(folder, f"{second}.png")
    os.replace(committed, committed + ".part")
    orphan = os.path.join(folder, f"{uuid.uuid4().hex}.pdf.part")
    young = os.path.join(folder, f"{uuid.uuid4().hex}.jpg.part")
    for path in (orphan, young):
        with open(path, "wb") as f:
            f.write(PDF)
    old = time.time() - 2 * 3600
    for path in (committed + ".part", orphan):
        os.utime(path, (old, old))
    with entrypoint_hook(system.container("catalog"), "tidy_documents") as tidy:
        assert tidy() == {"moved": 1, "removed": 1}
    assert sorted(os.listdir(folder)) == sorted([f"{doc}.pdf", f"{second}.png", os.path.basename(young)])
