"""Hospital visit records for U享赔 (seed 000 §7): the interface, an HTTP client and a
development stand-in.

The records service answers for one member (ID type, number and name) and a period:

    POST {base}/visits/search  {"member": {...}, "start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}
        -> 200 {"visits": [visit, ...]}
    POST {base}/visits/get     {"member": {...}, "recordId": "..."}
        -> 200 {"visit": visit | null}

A visit is {"recordId", "visitDate", "visitType" (OUTPATIENT | INPATIENT), "hospitalId"
(the directory's facility id), "hospitalName", "department", "diagnosis", "invoiceNo",
"amountFen", "items": [{"name", "category", "quantity", "unitPriceFen", "amountFen"}]}.
The member's ID number travels in the body, never in a URL (proxies log URLs), and is
never logged here. Anything else (a timeout, a refused connection, a status other than
200, a body that is not such JSON) is HospitalRecordsUnavailable: the member is told to
try later, never a 500.

Without HOSPITAL_RECORDS_URL the development stand-in answers: deterministic, realistic
visits per member (seeded by the person's ID document), at the hospitals of the directory's
medical list; in production nothing does, and U享赔's records are unavailable.
"""

from __future__ import annotations

import datetime
import hashlib
import http.client
import itertools
import json
import logging
import random
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from server.directory.models import FacilityKind
from server.errors import DomainError
from server.notify.deadline import deadline

if TYPE_CHECKING:
    from server.directory.directory import Directory

log = logging.getLogger(__name__)

OUTPATIENT = "OUTPATIENT"
INPATIENT = "INPATIENT"
VISIT_TYPES = frozenset({OUTPATIENT, INPATIENT})
MAX_VISITS = 500  # in one answer: more is a broken service, not a member's year
MAX_BODY = 2 * 1024 * 1024
_RECORD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class HospitalRecordsUnavailable(DomainError):
    """The records service did not answer, or answered something unreadable."""

    code = "HOSPITAL_RECORDS_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Member:
    """Whose records: the insured person as the insurer knows them."""

    person_id: int
    id_type: str
    id_number: str
    name: str


@dataclass(frozen=True, slots=True)
class Hospital:
    id: str  # the directory's facility id
    name: str


@dataclass(frozen=True, slots=True)
class Charge:
    """One line of the itemised charges (费用明细)."""

    name: str
    category: str  # 西药费, 检查费, 治疗费 ...
    quantity: int
    unit_price_fen: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Visit:
    record_id: str
    visit_date: datetime.date
    visit_type: str  # OUTPATIENT | INPATIENT
    hospital_id: str
    hospital_name: str
    department: str
    diagnosis: str
    invoice_no: str
    amount_fen: int
    items: tuple[Charge, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "recordId": self.record_id,
            "visitDate": self.visit_date.isoformat(),
            "visitType": self.visit_type,
            "hospitalId": self.hospital_id,
            "hospitalName": self.hospital_name,
            "department": self.department,
            "diagnosis": self.diagnosis,
            "invoiceNo": self.invoice_no,
            "amountFen": self.amount_fen,
            "items": [
                {
                    "name": c.name,
                    "category": c.category,
                    "quantity": c.quantity,
                    "unitPriceFen": c.unit_price_fen,
                    "amountFen": c.amount_fen,
                }
                for c in self.items
            ],
        }


class HospitalRecords(Protocol):
    def search(self, member: Member, start: datetime.date, end: datetime.date) -> list[Visit]:
        """The member's visits from `start` to `end` (inclusive), oldest first."""
        ...

    def get(self, member: Member, record_id: str) -> Visit | None:
        """One of the member's visits; None for an unknown id or another member's."""
        ...


# --- reading a visit -------------------------------------------------------------------------


def _bad(what: str) -> HospitalRecordsUnavailable:
    log.warning("hospital records service answered badly: %s", what)
    return HospitalRecordsUnavailable(
        "The hospital records service gave an unreadable answer; try again later."
    )


def _text(raw: dict[str, Any], key: str, most: int = 200) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise _bad(f"`{key}` is not text")
    return value.strip()


def _fen(raw: dict[str, Any], key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**10:
        raise _bad(f"`{key}` is not an amount in fen")
    return value


def parse_visit(raw: Any) -> Visit:
    if not isinstance(raw, dict):
        raise _bad("a visit is not an object")
    record_id = _text(raw, "recordId", 64)
    if not _RECORD_ID.fullmatch(record_id):
        raise _bad("`recordId` has other characters")
    try:
        day = datetime.date.fromisoformat(_text(raw, "visitDate", 10))
    except ValueError:
        raise _bad("`visitDate` is not a date") from None
    kind = _text(raw, "visitType", 20)
    if kind not in VISIT_TYPES:
        raise _bad("`visitType` is unknown")
    items_raw = raw.get("items")
    if not isinstance(items_raw, list) or len(items_raw) > 200:
        raise _bad("`items` is not a list")
    items = []
    for item in items_raw:
        if not isinstance(item, dict):
            raise _bad("an item is not an object")
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise _bad("an item's `quantity` is not a count")
        items.append(
            Charge(
                name=_text(item, "name"),
                category=_text(item, "category", 40),
                quantity=quantity,
                unit_price_fen=_fen(item, "unitPriceFen"),
                amount_fen=_fen(item, "amountFen"),
            )
        )
    amount = _fen(raw, "amountFen")
    if amount == 0:
        raise _bad("a visit of no amount")
    return Visit(
        record_id=record_id,
        visit_date=day,
        visit_type=kind,
        hospital_id=_text(raw, "hospitalId", 80),
        hospital_name=_text(raw, "hospitalName"),
        department=_text(raw, "department", 60),
        diagnosis=_text(raw, "diagnosis"),
        invoice_no=_text(raw, "invoiceNo", 40),
        amount_fen=amount,
        items=tuple(items),
    )


# --- the HTTP client -------------------------------------------------------------------------


class HttpHospitalRecords:
    """The records service over HTTP(S); `timeout` bounds a whole exchange."""

    def __init__(self, url: str, *, timeout: float = 5.0, connect_timeout: float = 3.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the hospital records service needs an http:// or https:// URL")
        self._parts = parts
        self.timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)

    def search(self, member: Member, start: datetime.date, end: datetime.date) -> list[Visit]:
        body = self._call(
            "visits/search",
            {"member": _member_json(member), "start": start.isoformat(), "end": end.isoformat()},
        )
        visits = body.get("visits")
        if not isinstance(visits, list) or len(visits) > MAX_VISITS:
            raise _bad("`visits` is not a list")
        out = [parse_visit(v) for v in visits]
        # what was asked for only, whatever the service sent
        return sorted((v for v in out if start <= v.visit_date <= end), key=lambda v: v.visit_date)

    def get(self, member: Member, record_id: str) -> Visit | None:
        if not _RECORD_ID.fullmatch(record_id):
            return None
        body = self._call("visits/get", {"member": _member_json(member), "recordId": record_id})
        if "visit" not in body:
            raise _bad("`visit` is missing")
        if body["visit"] is None:
            return None
        visit = parse_visit(body["visit"])
        return visit if visit.record_id == record_id else None

    def _call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            status, raw = self._post(path, data)
        except (OSError, http.client.HTTPException) as e:
            log.warning("hospital records service failed: %s", type(e).__name__)
            raise HospitalRecordsUnavailable(
                "The hospital records service is not answering; try again later."
            ) from None
        if status != 200:
            raise _bad(f"status {status}")
        try:
            body = json.loads(raw)
        except ValueError:
            raise _bad("not JSON") from None
        if not isinstance(body, dict):
            raise _bad("not an object")
        return body

    def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        p = self._parts
        connection = (
            http.client.HTTPSConnection if p.scheme == "https" else http.client.HTTPConnection
        )
        conn = connection(p.hostname or "", p.port, timeout=self.connect_timeout)
        target = p.path.rstrip("/") + "/" + path
        try:
            with deadline(self.timeout, lambda: conn.sock) as expired:
                try:
                    conn.connect()
                    if conn.sock is not None:
                        conn.sock.settimeout(self.timeout)
                    headers = {"Content-Type": "application/json", "Accept": "application/json"}
                    conn.request("POST", target, body, headers)
                    resp = conn.getresponse()
                    raw = resp.read(MAX_BODY + 1)
                    if len(raw) > MAX_BODY:
                        raise http.client.HTTPException("answer too large")
                    return resp.status, raw
                except (OSError, http.client.HTTPException):
                    if expired.is_set():
                        raise TimeoutError("the records service took too long") from None
                    raise
        finally:
            conn.close()


def _member_json(m: Member) -> dict[str, str]:
    return {"idType": m.id_type, "idNumber": m.id_number, "name": m.name}


# --- the development stand-in ----------------------------------------------------------------

# department -> (diagnoses, charges: (name, category, unit price in fen))
_DEPARTMENTS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str, int], ...]]] = {
    "呼吸内科": (
        ("急性上呼吸道感染", "急性支气管炎", "咳嗽变异性哮喘"),
        (
            ("普通门诊诊查费", "诊查费", 2500),
            ("血常规", "检验费", 3000),
            ("C反应蛋白测定", "检验费", 4500),
            ("胸部正位片", "检查费", 9000),
            ("阿莫西林胶囊 0.25g*24粒", "西药费", 1860),
            ("复方甘草口服溶液 100ml", "西药费", 1250),
        ),
    ),
    "消化内科": (
        ("急性胃肠炎", "慢性浅表性胃炎", "功能性消化不良"),
        (
            ("普通门诊诊查费", "诊查费", 2500),
            ("粪便常规", "检验费", 1500),
            ("腹部彩超", "检查费", 16000),
            ("奥美拉唑肠溶胶囊 20mg*14粒", "西药费", 2380),
            ("蒙脱石散 3g*10袋", "西药费", 1620),
        ),
    ),
    "骨科": (
        ("腰椎间盘突出症", "踝关节扭伤", "颈椎病"),
        (
            ("副主任医师诊查费", "诊查费", 5000),
            ("腰椎正侧位片", "检查费", 12000),
            ("中频脉冲电治疗", "治疗费", 3500),
            ("洛索洛芬钠片 60mg*20片", "西药费", 2840),
        ),
    ),
    "皮肤科": (
        ("湿疹", "荨麻疹", "接触性皮炎"),
        (
            ("普通门诊诊查费", "诊查费", 2500),
            ("过敏原检测", "检验费", 18000),
            ("氯雷他定片 10mg*6片", "西药费", 1980),
            ("糠酸莫米松乳膏 10g", "西药费", 3250),
        ),
    ),
    "眼科": (
        ("结膜炎", "干眼症", "屈光不正"),
        (
            ("普通门诊诊查费", "诊查费", 2500),
            ("裂隙灯检查", "检查费", 1500),
            ("玻璃酸钠滴眼液 5ml", "西药费", 4260),
            ("左氧氟沙星滴眼液 5ml", "西药费", 1890),
        ),
    ),
}
_INPATIENT: tuple[str, tuple[str, ...], tuple[tuple[str, str, int], ...]] = (
    "普外科",
    ("急性阑尾炎", "胆囊结石伴慢性胆囊炎"),
    (
        ("床位费", "床位费", 6000),
        ("手术费", "手术费", 180000),
        ("麻醉费", "麻醉费", 85000),
        ("护理费", "护理费", 3500),
        ("头孢呋辛钠注射液 1.5g", "西药费", 2950),
        ("血常规", "检验费", 3000),
    ),
)
EPOCH = datetime.date(2024, 1, 1)


class DevHospitalRecords:
    """Development and tests: the same member always has the same visits, no network."""

    def __init__(self, hospitals: Sequence[Hospital]) -> None:
        self.hospitals = tuple(hospitals) or (Hospital("dev-hospital", "示例医院"),)

    def search(self, member: Member, start: datetime.date, end: datetime.date) -> list[Visit]:
        return [v for v in self._visits(_person_key(member), end) if start <= v.visit_date <= end]

    def get(self, member: Member, record_id: str) -> Visit | None:
        if not _RECORD_ID.fullmatch(record_id):
            return None
        return next(
            (v for v in self._visits(_person_key(member), None) if v.record_id == record_id), None
        )

    def _visits(self, person: str, until: datetime.date | None) -> list[Visit]:
        """Every visit from EPOCH to `until` (or 20 years on: the ids alone are compared)."""
        seed = int.from_bytes(hashlib.sha256(f"uxiang-dev:{person}".encode()).digest()[:8])
        rnd = random.Random(seed)
        last = until or EPOCH + datetime.timedelta(days=365 * 20)
        day = EPOCH + datetime.timedelta(days=rnd.randint(0, 20))
        out: list[Visit] = []
        n = 0
        while day <= last:
            n += 1
            out.append(self._visit(rnd, person, n, day))
            day += datetime.timedelta(days=rnd.randint(9, 50))
        return out

    def _visit(self, rnd: random.Random, person: str, n: int, day: datetime.date) -> Visit:
        hospital = self.hospitals[rnd.randrange(len(self.hospitals))]
        diagnoses: tuple[str, ...]
        menu: tuple[tuple[str, str, int], ...]
        if rnd.random() < 0.08:
            department, diagnoses, menu = _INPATIENT
            kind = INPATIENT
            picks = list(menu)
        else:
            department = rnd.choice(sorted(_DEPARTMENTS))
            diagnoses, menu = _DEPARTMENTS[department]
            kind = OUTPATIENT
            picks = [menu[0], *rnd.sample(menu[1:], rnd.randint(1, len(menu) - 1))]
        items = []
        for name, category, price in picks:
            quantity = rnd.randint(3, 7) if category in ("床位费", "护理费") else rnd.randint(1, 2)
            items.append(Charge(name, category, quantity, price, price * quantity))
        digest = hashlib.sha256(f"uxiang-dev-record:{person}:{n}".encode()).hexdigest()
        return Visit(
            record_id=f"V{digest[:20].upper()}",
            visit_date=day,
            visit_type=kind,
            hospital_id=hospital.id,
            hospital_name=hospital.name,
            department=department,
            diagnosis=rnd.choice(diagnoses),
            invoice_no=f"{day:%Y}{int(digest[20:30], 16) % 10**10:010d}",
            amount_fen=sum(c.amount_fen for c in items),
            items=tuple(items),
        )


def _person_key(member: Member) -> str:
    """What the stand-in's visits follow: the person's document (type and number), so that
    the same person has the same visits in every database, whatever their row's id."""
    return hashlib.sha256(f"{member.id_type}:{member.id_number}".encode()).hexdigest()


STAND_IN_HOSPITALS = 1_000


def medical_list(directory: Directory, limit: int = STAND_IN_HOSPITALS) -> tuple[Hospital, ...]:
    """The directory's medical list (直付医疗机构), where the stand-in's visits happen: its
    first `limit` facilities, read in the directory's order and no further, so a large
    directory (a million rows) costs no more at start-up than the curated one."""
    medical = (
        Hospital(f.id, f.name_zh) for f in directory.facilities if f.kind is FacilityKind.MEDICAL
    )
    return tuple(itertools.islice(medical, limit))


def make_hospital_records(
    url: str, hospitals: Sequence[Hospital], *, timeout: float = 5.0, production: bool = False
) -> HospitalRecords | None:
    """The HTTP client for `url`; without one, the stand-in, except in production, where
    invented visits must never reach a member: U享赔's records are then unavailable."""
    if url:
        return HttpHospitalRecords(url, timeout=timeout)
    return None if production else DevHospitalRecords(hospitals)
