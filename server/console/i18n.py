"""Vietnamese first, English second: the console's language (a cookie, `?lang=` to switch) and its words.

Templates say `{{ tr("Tiếng Việt", "English") }}` for a one-off text, or `{{ t("key") }}` for a word in TEXTS.
"""

from __future__ import annotations

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANG_COOKIE = "qrck_lang"

TEXTS: dict[str, tuple[str, str]] = {  # key -> (vi, en)
    "app": ("Bảng điều khiển QR Checkpoint", "QR Checkpoint console"),
    "nav.trace": ("Truy vết", "Trace"),
    "nav.persons": ("Người khai báo", "Persons"),
    "nav.audit": ("Nhật ký truy cập", "Audit"),
    "nav.venues": ("Địa điểm", "Venues"),
    "nav.fleet": ("Thiết bị", "Fleet"),
    "nav.tokens": ("Mã API", "API tokens"),
    "logout": ("Đăng xuất", "Log out"),
    "login": ("Đăng nhập", "Log in"),
    "username": ("Tên đăng nhập", "User name"),
    "password": ("Mật khẩu", "Password"),
    "role.authority": ("Cơ quan y tế", "Health authority"),
    "role.manager": ("Quản lý địa điểm", "Venue manager"),
    "role.admin": ("Quản trị", "Administrator"),
    "other_language": ("English", "Tiếng Việt"),
}


def language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def text(lang: str, key: str) -> str:
    words = TEXTS.get(key)
    if words is None:
        return key
    return words[LANGUAGES.index(lang)] if lang in LANGUAGES else words[0]


def add_texts(texts: dict[str, tuple[str, str]]) -> None:
    """More words (key -> (vi, en)), for the pages of another module; a key given twice is a mistake."""
    clash = TEXTS.keys() & texts.keys()
    if clash:
        raise ValueError(f"console texts defined twice: {sorted(clash)}")
    TEXTS.update(texts)
