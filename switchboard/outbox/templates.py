"""Message templates (Jinja2) from the top-level `templates/` folder.

Text templates render with StrictUndefined, so a missing variable fails loudly in tests
instead of mailing "Chào ," to a customer; the HTML part of a mail is the text wrapped in
an autoescaped layout, so customer-supplied names can never inject markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "templates"


class Templates:
    def __init__(self, directory: Path | None = None) -> None:
        self.env = Environment(loader=FileSystemLoader(str(directory or DEFAULT_DIR)),
                               undefined=StrictUndefined, keep_trailing_newline=True,
                               autoescape=select_autoescape(["html", "html.j2"]))

    def text(self, template: str, lang: str, **values: Any) -> str:
        """`<template>.<lang>.txt.j2`, falling back to Vietnamese."""
        try:
            found = self.env.get_template(f"{template}.{lang}.txt.j2")
        except Exception:
            found = self.env.get_template(f"{template}.vi.txt.j2")
        return found.render(**values).strip() + "\n"

    def html(self, text: str, subject: str, lang: str) -> str:
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
        return self.env.get_template("email/layout.html.j2").render(
            paragraphs=paragraphs, subject=subject, lang=lang)
