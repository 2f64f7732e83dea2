"""The hospital records interface: the HTTP client against a real server on loopback (good
answers, timeouts, refusals and bad answers), and the development stand-in."""

from __future__ import annotations

import datetime
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from server.directory.models import FacilityKind
from server.hospital_records import (
    DevHospitalRecords,
    Hospital,
    HospitalRecordsUnavailable,
    HttpHospitalRecords,
    Member,
    make_hospital_records,
    medical_list,
)

ME = Member(7, "resident_id", "310115198001011234", "张伟")
OTHER = Member(8, "resident_id", "310115198001011250", "李娜")
START, END = datetime.date(2026, 1, 1), datetime.date(2026, 3, 1)
HOSPITALS = (Hospital("med-a", "甲医院"), Hospital("med-b", "乙医院"))

VISIT = {
    "recordId": "R1",
    "visitDate": "2026-02-03",
    "visitType": "OUTPATIENT",
    "hospitalId": "med-a",
    "hospitalName": "甲医院",
    "department": "呼吸内科",
    "diagnosis": "急性上呼吸道感染",
    "invoiceNo": "20260000001",
    "amountFen": 5500,
    "items": [
        {
            "name": "诊查费",
            "category": "诊查费",
            "quantity": 1,
            "unitPriceFen": 2500,
            "amountFen": 2500,
        },
        {
            "name": "血常规",
            "category": "检验费",
            "quantity": 1,
            "unitPriceFen": 3000,
            "amountFen": 3000,
        },
    ],
}

Answer = Callable[[str, dict[str, Any]], tuple[int, bytes]]


class _Handler(BaseHTTPRequestHandler):
    answer: Answer
    seen: list[tuple[str, dict[str, Any]]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, body))
        status, raw = self.answer(self.path, body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:  # quiet
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that gave up (the timeout tests) is what they test


@pytest.fixture
def server() -> Iterator[Callable[[Answer], tuple[str, list[tuple[str, dict[str, Any]]]]]]:
    started: list[ThreadingHTTPServer] = []

    def start(answer: Answer) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        seen: list[tuple[str, dict[str, Any]]] = []
        handler = type("H", (_Handler,), {"answer": staticmethod(answer), "seen": seen})
        httpd = _Server(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/records", seen

    yield start
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


def _json(body: Any, status: int = 200) -> tuple[int, bytes]:
    return status, json.dumps(body, ensure_ascii=False).encode()


def test_visits_are_searched_with_the_member_in_the_body(server: Any) -> None:
    # given a records service with one visit in the period and one outside it
    outside = dict(VISIT, recordId="R2", visitDate="2025-06-01")
    url, seen = server(lambda path, body: _json({"visits": [VISIT, outside]}))
    # when the client searches
    visits = HttpHospitalRecords(url).search(ME, START, END)
    # then the visit of the period comes back, read field by field
    assert [v.record_id for v in visits] == ["R1"]
    v = visits[0]
    assert v.visit_date == datetime.date(2026, 2, 3) and v.amount_fen == 5500
    assert [c.amount_fen for c in v.items] == [2500, 3000]
    # and the ID number went in the body, not the URL
    path, body = seen[0]
    assert path == "/records/visits/search" and ME.id_number not in path
    assert body == {
        "member": {"idType": "resident_id", "idNumber": ME.id_number, "name": "张伟"},
        "start": "2026-01-01",
        "end": "2026-03-01",
    }


def test_one_visit_is_got_by_id_and_an_unknown_one_is_none(server: Any) -> None:
    url, seen = server(
        lambda path, body: _json({"visit": VISIT if body["recordId"] == "R1" else None})
    )
    client = HttpHospitalRecords(url)
    found = client.get(ME, "R1")
    assert found is not None and found.record_id == "R1"
    assert client.get(ME, "R9") is None
    # an id that could not be one is not even asked about
    assert client.get(ME, "../admin") is None
    assert [p for p, _ in seen] == ["/records/visits/get", "/records/visits/get"]


@pytest.mark.parametrize(
    "answer",
    [
        _json({"error": "down"}, 500),
        _json({"visits": []}, 404),
        (200, b"<html>gateway error</html>"),
        _json(["not", "an", "object"]),
        _json({"visits": "none"}),
        _json({"visits": [dict(VISIT, amountFen="55.00")]}),
        _json({"visits": [dict(VISIT, visitDate="03/02/2026")]}),
        _json({"visits": [dict(VISIT, visitType="DENTAL")]}),
        _json({"visits": [dict(VISIT, recordId="a/b")]}),
        _json({"visits": [dict(VISIT, items=[{"name": "x"}])]}),
        _json({"visits": [{k: v for k, v in VISIT.items() if k != "diagnosis"}]}),
    ],
    ids=[
        "500",
        "404",
        "html",
        "array",
        "visits-not-list",
        "amount-text",
        "date-format",
        "visit-type",
        "record-id",
        "item",
        "missing-field",
    ],
)
def test_a_bad_answer_is_a_typed_error(server: Any, answer: tuple[int, bytes]) -> None:
    url, _ = server(lambda path, body: answer)
    with pytest.raises(HospitalRecordsUnavailable) as e:
        HttpHospitalRecords(url).search(ME, START, END)
    assert e.value.code == "HOSPITAL_RECORDS_UNAVAILABLE"
    # the member's ID number is not in what they are told
    assert ME.id_number not in e.value.message


def test_a_slow_service_times_out_within_the_limit(server: Any) -> None:
    def slow(path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        time.sleep(3)
        return _json({"visits": []})

    url, _ = server(slow)
    began = time.monotonic()
    with pytest.raises(HospitalRecordsUnavailable):
        HttpHospitalRecords(url, timeout=0.5).search(ME, START, END)
    assert time.monotonic() - began < 2.5


def test_a_service_that_trickles_its_answer_is_cut_off_at_the_total_timeout() -> None:
    # a server that accepts, reads the request and sends a byte now and then
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not stop.is_set():
                try:
                    conn.sendall(b" ")
                except OSError:
                    return
                time.sleep(0.2)

    threading.Thread(target=trickle, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    began = time.monotonic()
    try:
        with pytest.raises(HospitalRecordsUnavailable):
            HttpHospitalRecords(url, timeout=1.0).search(ME, START, END)
        assert time.monotonic() - began < 3
    finally:
        stop.set()
        listener.close()


def test_a_refused_connection_is_a_typed_error() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(HospitalRecordsUnavailable):
        HttpHospitalRecords(f"http://127.0.0.1:{port}").search(ME, START, END)


def test_the_url_setting_chooses_the_client() -> None:
    assert isinstance(make_hospital_records("https://records.example/api", ()), HttpHospitalRecords)
    assert isinstance(make_hospital_records("", HOSPITALS), DevHospitalRecords)
    # invented visits never reach a member in production
    assert make_hospital_records("", HOSPITALS, production=True) is None
    with pytest.raises(ValueError):
        HttpHospitalRecords("ftp://records.example")


def test_the_stand_in_is_deterministic_and_realistic_per_member() -> None:
    dev = DevHospitalRecords(HOSPITALS)
    year = dev.search(ME, datetime.date(2025, 3, 1), datetime.date(2026, 3, 1))
    # the same member gets the same visits, from another instance too
    assert year == DevHospitalRecords(HOSPITALS).search(
        ME, datetime.date(2025, 3, 1), datetime.date(2026, 3, 1)
    )
    assert len(year) >= 6
    for v in year:
        assert v.hospital_id in {"med-a", "med-b"}
        assert v.hospital_name == {"med-a": "甲医院", "med-b": "乙医院"}[v.hospital_id]
        assert v.amount_fen == sum(c.amount_fen for c in v.items) > 0
        assert all(c.amount_fen == c.unit_price_fen * c.quantity for c in v.items)
        assert v.department and v.diagnosis and v.invoice_no.isdigit()
    # a shorter period is a part of the longer one
    part = dev.search(ME, datetime.date(2025, 9, 1), datetime.date(2025, 12, 31))
    assert part == [
        v for v in year if datetime.date(2025, 9, 1) <= v.visit_date <= datetime.date(2025, 12, 31)
    ]
    # another member has other visits, and never this member's
    others = dev.search(OTHER, datetime.date(2025, 3, 1), datetime.date(2026, 3, 1))
    assert {v.record_id for v in others}.isdisjoint(v.record_id for v in year)
    assert dev.get(ME, year[0].record_id) == year[0]
    assert dev.get(OTHER, year[0].record_id) is None


def test_the_stand_ins_hospitals_are_read_from_the_start_of_the_directory_only() -> None:
    # given a directory of a million facilities, every fourth one a dental clinic
    read = 0

    def facilities() -> Iterator[SimpleNamespace]:
        nonlocal read
        for i in range(1_000_000):
            read += 1
            kind = FacilityKind.DENTAL if i % 4 == 3 else FacilityKind.MEDICAL
            yield SimpleNamespace(id=f"f{i}", name_zh=f"医院{i}", kind=kind)

    directory = SimpleNamespace(facilities=facilities())
    # when the stand-in's list is made
    hospitals = medical_list(directory, limit=30)  # type: ignore[arg-type]
    # then it holds the first medical facilities, and no more of the directory was read
    assert [h.id for h in hospitals[:4]] == ["f0", "f1", "f2", "f4"]
    assert len(hospitals) == 30 and read == 39  # f0..f38: 30 medical, 9 dental
