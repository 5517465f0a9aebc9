"""The words of the venue and fleet pages (key -> (vi, en)), added to the console's once, at import."""

from __future__ import annotations

from server.console.i18n import add_texts

TEXTS: dict[str, tuple[str, str]] = {
    "level.green": ("Xanh", "Green"),
    "level.yellow": ("Vàng", "Yellow"),
    "level.orange": ("Cam", "Orange"),
    "level.red": ("Đỏ", "Red"),
    "mode.auto": ("Tự động (vào rồi ra)", "Automatic (in, then out)"),
    "mode.entry": ("Chỉ vào", "Entry only"),
    "mode.exit": ("Chỉ ra", "Exit only"),
    "questionnaire.never": ("Không hỏi", "Never"),
    "questionnaire.assisted": ("Khi nhân viên nhập hộ", "For staff-typed entries"),
    "questionnaire.always": ("Mỗi lượt vào", "At every entry"),
    "capacity.block": ("Không cho vào", "Refuse the entry"),
    "capacity.warn": ("Cho vào, cảnh báo", "Admit with a warning"),
    "credential.cccd": ("CCCD gắn chip", "Chip ID card (CCCD)"),
    "credential.pccovid": ("Mã PC-Covid", "PC-Covid QR"),
    "credential.personal": ("Mã QR cá nhân (của hệ thống)", "Our personal QR"),
    "credential.dcc": ("Hộ chiếu vắc-xin (EU DCC)", "Vaccine passport (EU DCC)"),
    "answer.yes": ("Đạt", "Yes"),
    "answer.no": ("Chưa đạt", "No"),
    "answer.na": ("Không áp dụng", "Not applicable"),
    "health.ok": ("Tốt", "OK"),
    "health.behind": ("Chậm", "Behind"),
    "health.offline": ("Mất liên lạc", "Offline"),
    "health.revoked": ("Đã thu hồi", "Revoked"),
    "reason.never_connected": ("chưa từng kết nối", "never connected"),
    "reason.silent": ("im lặng hơn 1 giờ", "silent over an hour"),
    "reason.backlog": ("còn sự kiện chờ gửi", "events waiting"),
    "reason.clock": ("đồng hồ lệch hơn 2 phút", "clock over 2 min off"),
    "reason.keys_stale": ("khóa cũ hơn 3 ngày", "keys over 3 days old"),
    "reason.trust_list_stale": ("danh sách tin cậy cũ hơn 3 ngày", "trust list over 3 days old"),
}
add_texts(TEXTS)
