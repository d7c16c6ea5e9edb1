"""Times for people and scripts: ISO 8601 in the configured zone (Asia/Ho_Chi_Minh by
default), with the offset, so `+07:00` is never ambiguous; storage stays UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


def local_iso(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat(timespec="seconds")


def localize(data: Any, zone: ZoneInfo) -> Any:
    """Every datetime inside a JSON-like structure, as local ISO text."""
    if isinstance(data, datetime):
        return local_iso(data, zone)
    if isinstance(data, dict):
        return {k: localize(v, zone) for k, v in data.items()}
    if isinstance(data, list):
        return [localize(v, zone) for v in data]
    return data


def for_people(value: datetime | None, zone: ZoneInfo) -> str:
    """`22/11/2026 14:05`, the way Vietnamese write dates, in the configured zone."""
    return value.astimezone(zone).strftime("%d/%m/%Y %H:%M") if value else "—"


VI_WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def spoken(value: datetime, zone: ZoneInfo, lang: str) -> str:
    """A moment as a customer reads it in a message: `8:00 thứ Hai, 11/02/2027` or
    `Monday 11/02/2027 at 8:00` (Vietnamese day-first dates in both)."""
    local = value.astimezone(zone)
    clock = f"{local.hour}:{local.minute:02d}"
    if lang == "en":
        return f"{EN_WEEKDAYS[local.weekday()]} {local:%d/%m/%Y} at {clock}"
    return f"{clock} {VI_WEEKDAYS[local.weekday()]}, {local:%d/%m/%Y}"


def spoken_day(value: datetime, zone: ZoneInfo, lang: str) -> str:
    """A day without the hour (an expected delivery date)."""
    local = value.astimezone(zone)
    weekdays = EN_WEEKDAYS if lang == "en" else VI_WEEKDAYS
    return f"{weekdays[local.weekday()]} {local:%d/%m/%Y}" if lang == "en" else \
        f"{weekdays[local.weekday()]}, {local:%d/%m/%Y}"
