"""Synthetic visitors for the demo source, tests and benchmarks: Vietnamese citizen-ID (CCCD) QR payloads.

Every person here is invented. The 12-digit ID is consistent with the birth year and sex (docs/formats.md):
digits 1-3 province, digit 4 century+sex (1900s: male 0 / female 1; 2000s: male 2 / female 3),
digits 5-6 the last two digits of the birth year, digits 7-12 random.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

# (code, name) of provinces whose codes are public (Circular 07/2016/TT-BCA).
PROVINCES: tuple[tuple[str, str], ...] = (
    ("001", "Hà Nội"),
    ("031", "Hải Phòng"),
    ("038", "Thanh Hóa"),
    ("040", "Nghệ An"),
    ("046", "Thừa Thiên Huế"),
    ("048", "Đà Nẵng"),
    ("079", "TP. Hồ Chí Minh"),
    ("092", "Cần Thơ"),
)

_SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
)
_MIDDLE_MALE = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Công")
_MIDDLE_FEMALE = ("Thị", "Ngọc", "Thu", "Thanh", "Bích", "Kim", "Mỹ")
_GIVEN_MALE = ("Ánh", "Hùng", "Dũng", "Tuấn", "Khải", "Phúc", "Quang", "Sơn", "Đạt", "Hiếu", "Trọng", "Lộc")
_GIVEN_FEMALE = ("Nhung", "Hạnh", "Hương", "Lan", "Thảo", "Trang", "Ngọc", "Yến", "Phượng", "Duyên", "Hà", "Vy")
_STREETS = (
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Phan Đình Phùng",
)
_WARDS = ("P. Điện Biên", "P. Bến Nghé", "P. Hàng Bạc", "P. Thạch Thang", "X. Quảng Thành", "P. Trường Thi")


@dataclass(frozen=True)
class DemoPerson:
    """One invented citizen and the text of their CCCD QR code."""

    id_number: str
    old_id: str
    full_name: str
    date_of_birth: date
    sex: str  # "Nam" or "Nữ", as printed on the card
    address: str
    issue_date: date

    @property
    def payload(self) -> str:
        """The QR text: `ID|old ID|name|ddmmyyyy|sex|address|issue ddmmyyyy`."""
        return "|".join(
            (
                self.id_number,
                self.old_id,
                self.full_name,
                self.date_of_birth.strftime("%d%m%Y"),
                self.sex,
                self.address,
                self.issue_date.strftime("%d%m%Y"),
            )
        )


def century_sex_digit(birth_year: int, female: bool) -> str:
    """Digit 4 of a CCCD number: 0/1 for the 1900s, 2/3 for the 2000s, 4/5 for the 2100s (male/female)."""
    century_index = (birth_year - 1900) // 100
    if not 0 <= century_index <= 3:
        raise ValueError(f"birth year {birth_year} outside 1900-2299")
    return str(century_index * 2 + (1 if female else 0))


def make_person(rng: random.Random) -> DemoPerson:
    """A random invented citizen whose ID number agrees with their birth year and sex."""
    female = rng.random() < 0.5
    dob = date(1940, 1, 1) + timedelta(days=rng.randrange((date(2008, 12, 31) - date(1940, 1, 1)).days))
    province_code, province_name = rng.choice(PROVINCES)
    id_number = (
        province_code + century_sex_digit(dob.year, female) + f"{dob.year % 100:02d}" + f"{rng.randrange(10**6):06d}"
    )
    middle = rng.choice(_MIDDLE_FEMALE if female else _MIDDLE_MALE)
    given = rng.choice(_GIVEN_FEMALE if female else _GIVEN_MALE)
    name = f"{rng.choice(_SURNAMES)} {middle} {given}"
    address = f"{rng.randint(1, 250)} {rng.choice(_STREETS)}, {rng.choice(_WARDS)}, {province_name}"
    # Chip cards were issued from 2021; a card is issued at 14 at the earliest.
    earliest = max(date(2021, 1, 1), date(dob.year + 14, dob.month, min(dob.day, 28)))
    issue = earliest + timedelta(days=rng.randrange(max(1, (date(2025, 12, 31) - earliest).days)))
    old_id = f"{rng.randrange(10**9):09d}" if dob.year < 2000 and rng.random() < 0.7 else ""
    return DemoPerson(id_number, old_id, name, dob, "Nữ" if female else "Nam", address, issue)


def make_cccd_payload(rng: random.Random) -> str:
    """A valid synthetic CCCD QR payload string (UTF-8 text with Vietnamese diacritics)."""
    return make_person(rng).payload


def demo_people(n: int, seed: int = 0) -> list[DemoPerson]:
    """`n` distinct invented citizens, the same for the same seed."""
    rng = random.Random(seed)
    people: dict[str, DemoPerson] = {}
    while len(people) < n:
        person = make_person(rng)
        people.setdefault(person.id_number, person)
    return list(people.values())


def demo_payloads(seed: int = 0, n: int = 20) -> list[str]:
    """The payloads of `demo_people(n, seed)`."""
    return [person.payload for person in demo_people(n, seed)]


def make_malformed_payload(rng: random.Random) -> str:
    """A code a visitor might show by mistake: a wrong-shaped CCCD, an ID that contradicts its birth year, a URL."""
    person = make_person(rng)
    kind = rng.randrange(3)
    if kind == 0:
        return "|".join(person.payload.split("|")[:3])  # too few fields, no date of birth
    if kind == 1:
        wrong_year = f"{(person.date_of_birth.year + 7) % 100:02d}"
        return person.id_number[:4] + wrong_year + person.payload[6:]  # ID says another birth year
    return f"https://example.com/menu?table={rng.randint(1, 40)}"
