"""HTML of the health declaration page and its result, Vietnamese first (`?lang=en` for English).

Plain string building with `html.escape` on every value: two small pages do not need a template engine, and
everything a person typed is escaped before it reaches the page.
"""

from __future__ import annotations

import base64
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from server.declarations import QUESTIONS, IssuedQr

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

TEXT = {
    "vi": {
        "title": "Khai báo y tế",
        "intro": "Điền tờ khai để nhận mã QR cá nhân. Xuất trình mã này tại điểm kiểm soát.",
        "name": "Họ và tên",
        "id_number": "Số CCCD/CMND (nếu có)",
        "dob": "Ngày sinh",
        "phone": "Số điện thoại",
        "questions": "Trong 14 ngày qua, anh/chị có dấu hiệu hoặc tiếp xúc nào sau đây không?",
        "yes": "Có",
        "no": "Không",
        "pledge": "Tôi cam kết những thông tin trên là đúng sự thật.",
        "submit": "Gửi tờ khai",
        "other": "English",
        "done": "Mã QR cá nhân của bạn",
        "declared": "Khai báo lúc",
        "valid": "Có giá trị đến",
        "ok": "Không có triệu chứng",
        "symptoms": "Có triệu chứng hoặc yếu tố dịch tễ: vui lòng liên hệ nhân viên y tế",
        "download": "Tải ảnh mã QR",
        "again": "Khai báo lại",
        "error": "Chưa gửi được",
    },
    "en": {
        "title": "Health declaration",
        "intro": "Fill in the declaration to get your personal QR code. Show it at the checkpoint.",
        "name": "Full name",
        "id_number": "ID card number (if any)",
        "dob": "Date of birth",
        "phone": "Phone number",
        "questions": "In the last 14 days, have you had any of the following?",
        "yes": "Yes",
        "no": "No",
        "pledge": "I declare that the information above is true.",
        "submit": "Submit",
        "other": "Tiếng Việt",
        "done": "Your personal QR code",
        "declared": "Declared at",
        "valid": "Valid until",
        "ok": "No symptoms",
        "symptoms": "Symptoms or exposure reported: please see the health staff",
        "download": "Download the QR image",
        "again": "Declare again",
        "error": "Not sent",
    },
}

_STYLE = """
body{font-family:system-ui,"DejaVu Sans",sans-serif;margin:0;background:#f4f6f8;color:#111}
main{max-width:34rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input[type=text],input[type=tel],input[type=date]{width:100%;box-sizing:border-box;font-size:1.1rem;padding:.6rem;
border:1px solid #889;border-radius:.4rem}
fieldset{border:1px solid #ccd;border-radius:.4rem;margin:1rem 0;padding:.5rem .8rem;background:#fff}
.q{display:flex;justify-content:space-between;align-items:center;gap:.5rem;padding:.5rem 0;border-bottom:1px solid #eee}
.q span{flex:1}.q label{display:inline;font-weight:400;margin:0 0 0 .6rem;white-space:nowrap}
input[type=radio],input[type=checkbox]{transform:scale(1.4);margin-right:.3rem}
button,.button{display:block;box-sizing:border-box;width:100%;font-size:1.2rem;padding:.8rem;margin:1rem 0;border:0;border-radius:.4rem;
background:#0a6;color:#fff;text-align:center;text-decoration:none}
.error{background:#fdd;border:1px solid #c00;padding:.6rem;border-radius:.4rem}
.qr{background:#fff;padding:1rem;text-align:center;border-radius:.4rem}
.qr img{width:100%;max-width:24rem;image-rendering:pixelated}
.ok{color:#060;font-weight:700}.warn{color:#b00;font-weight:700}
nav{text-align:right}
"""


def _page(lang: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def language(value: str | None) -> str:
    return value if value in TEXT else "vi"


def form_page(lang: str = "vi", error: str = "", values: dict[str, str] | None = None) -> str:
    t, values = TEXT[lang], values or {}
    other = "en" if lang == "vi" else "vi"

    def field(name: str, label: str, kind: str, extra: str = "") -> str:
        return (
            f'<label for="{name}">{escape(label)}</label>'
            f'<input type="{kind}" id="{name}" name="{name}" value="{escape(values.get(name, ""))}" {extra}>'
        )

    questions = "".join(
        f'<div class="q"><span>{escape(vi if lang == "vi" else en)}</span>'
        f'<label><input type="radio" name="{key}" id="{key}-yes" value="yes" required'
        f"{' checked' if values.get(key) == 'yes' else ''}>{escape(t['yes'])}</label>"
        f'<label><input type="radio" name="{key}" id="{key}-no" value="no"'
        f"{' checked' if values.get(key) == 'no' else ''}>{escape(t['no'])}</label></div>"
        for key, vi, en in QUESTIONS
    )
    problem = f'<p class="error" id="error">{escape(t["error"])}: {escape(error)}</p>' if error else ""
    body = (
        f'<nav><a href="?lang={other}">{escape(t["other"])}</a></nav><h1>{escape(t["title"])}</h1>'
        f"<p>{escape(t['intro'])}</p>{problem}"
        f'<form method="post" action="/declare?lang={lang}" id="declaration">'
        + field("full_name", t["name"], "text", 'required maxlength="100" autocomplete="name"')
        + field("id_number", t["id_number"], "text", 'inputmode="numeric" pattern="[0-9]{9}|[0-9]{12}" maxlength="12"')
        + field("date_of_birth", t["dob"], "date")
        + field("phone", t["phone"], "tel", 'required autocomplete="tel" maxlength="20"')
        + f"<fieldset><legend>{escape(t['questions'])}</legend>{questions}</fieldset>"
        f'<label><input type="checkbox" name="pledge" id="pledge" value="yes" required>{escape(t["pledge"])}</label>'
        f'<button type="submit" id="submit">{escape(t["submit"])}</button></form>'
    )
    return _page(lang, t["title"], body)


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


def result_page(lang: str, issued: IssuedQr, png: bytes) -> str:
    t = TEXT[lang]
    data_uri = "data:image/png;base64," + base64.b64encode(png).decode()
    outcome = (
        f'<p class="warn" id="outcome">{escape(t["symptoms"])}</p>'
        if issued.symptoms
        else f'<p class="ok" id="outcome">{escape(t["ok"])}</p>'
    )
    declared = _local(issued.declared_at) if issued.declared_at else "-"
    body = (
        f'<h1>{escape(t["done"])}</h1><div class="qr"><img id="qr" alt="QR" src="{data_uri}">'
        f'<p><strong id="name">{escape(issued.full_name)}</strong></p></div>{outcome}'
        f"<p>{escape(t['declared'])}: {escape(declared)}<br>{escape(t['valid'])}: {escape(_local(issued.expires_at))}</p>"
        f'<a class="button" id="download" href="{data_uri}" download="ma-qr-ca-nhan.png">{escape(t["download"])}</a>'
        f'<a href="/declare?lang={lang}">{escape(t["again"])}</a>'
    )
    return _page(lang, t["done"], body)
