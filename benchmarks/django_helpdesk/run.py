"""Switchboard `ingest-eml` against django-helpdesk's `get_email` on one folder of .eml files.

    .venv/bin/python benchmarks/django_helpdesk/run.py [--messages 2000] [--keep]

Run from the repository root with the project's interpreter. Stdlib only: django-helpdesk
lives in its own virtual environment (benchmarks/out/helpdesk-venv, made once and reused),
in a throw-away Django project under a temporary directory. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import email.policy
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from email.parser import BytesHeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "benchmarks" / "out" / "helpdesk-venv"
VENV_PY = VENV / "bin" / "python"
MARKER = VENV / "benchmark-requirements.txt"
QUEUE_ADDRESS = "hotro@shop.example.vn"

# What the benchmark was last checked with (django-helpdesk's own dependencies as pip
# resolved them on 2026-11, pinned so that a later run measures the same code).
REQUIREMENTS = [
    "django-helpdesk==2.6.1",
    "Django==5.2.19",
    "asgiref==3.13.0",
    "beautifulsoup4==4.15.0",
    "django-cleanup==9.0.0",
    "django-model-utils==5.0.0",
    "djangorestframework==3.18.3",
    "email-reply-parser==0.5.12",
    "Markdown==3.11.3",
    "nh3==0.3.8",
    "oauthlib==4.0.1",
    "requests==2.34.2",
    "requests-oauthlib==2.0.0",
    "soupsieve==4.1.2",
    "sqlparse==0.6.1",
]


class BenchError(Exception):
    """A step failed; the message says which and what to do."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="number of .eml files")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (databases, logs, leftovers)")
    parser.add_argument("--reinstall", action="store_true",
                        help="rebuild benchmarks/out/helpdesk-venv from scratch")
    options = parser.parse_args()
    if options.messages < 1:
        parser.error("--messages must be at least 1")

    tmp = Path(tempfile.mkdtemp(prefix="bench-helpdesk-"))
    try:
        return run(options, tmp)
    except BenchError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        if not options.keep:
            print("(run again with --keep to look at the temporary files)", file=sys.stderr)
        return 2
    finally:
        if options.keep:
            print(f"\nkept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(options: argparse.Namespace, tmp: Path) -> int:
    versions = ensure_venv(options.reinstall)
    print("django-helpdesk side: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"Switchboard side: {sys.executable} (Python {sys.version.split()[0]}); "
          f"{os.cpu_count()} cores")

    # One folder, one copy for each side: get_email deletes the files it has processed.
    mail = tmp / "mail"
    step(f"generating {options.messages} messages",
         [sys.executable, "-m", "benchmarks.mail_folder", str(mail),
          "--messages", str(options.messages)], cwd=ROOT)
    files = sorted(mail.glob("*.eml"))
    if len(files) != options.messages:
        raise BenchError(f"benchmarks.mail_folder wrote {len(files)} files, "
                         f"expected {options.messages}")
    shutil.copytree(mail, tmp / "mail-switchboard")
    shutil.copytree(mail, tmp / "mail-helpdesk")

    project = make_helpdesk_project(tmp, tmp / "mail-helpdesk")
    sb_config = make_switchboard_config(tmp)

    sb = time_switchboard(tmp, sb_config, tmp / "mail-switchboard")
    hd = time_helpdesk(project, tmp / "mail-helpdesk")
    report(options.messages, sb, hd)
    return 0


# --- the helpdesk virtual environment --------------------------------------------------


def ensure_venv(reinstall: bool) -> dict[str, str]:
    wanted = "\n".join(REQUIREMENTS) + "\n"
    if reinstall and VENV.exists():
        shutil.rmtree(VENV)
    if VENV_PY.exists() and MARKER.exists() and MARKER.read_text() == wanted:
        print(f"reusing {VENV.relative_to(ROOT)}")
    else:
        if not VENV_PY.exists():
            print(f"creating {VENV.relative_to(ROOT)} ...")
            VENV.parent.mkdir(parents=True, exist_ok=True)
            step("creating the virtual environment", [sys.executable, "-m", "venv", str(VENV)])
        print("installing " + ", ".join(REQUIREMENTS[:2]) + " (and pinned dependencies) "
              "from PyPI ...")
        requirements = VENV / "requirements.txt"
        requirements.write_text(wanted)
        result = subprocess.run(
            [str(VENV_PY), "-m", "pip", "install", "--disable-pip-version-check",
             "--no-input", "-r", str(requirements)],
            capture_output=True, text=True)
        if result.returncode != 0:
            tail = "\n".join(
                line for line in (result.stdout + result.stderr).splitlines()
                if not line.startswith("WARNING: Location"))[-3000:]
            raise BenchError(
                f"pip could not install django-helpdesk into {VENV} "
                f"(exit {result.returncode}). Is PyPI reachable? Are the pinned versions "
                f"still served? Last output:\n{tail}\n"
                f"Retry with --reinstall once the cause is fixed.")
        MARKER.write_text(wanted)
    probe = subprocess.run(
        [str(VENV_PY), "-c",
         "import json, sys; from importlib.metadata import version;"
         "print(json.dumps({'python': sys.version.split()[0], "
         "'django-helpdesk': version('django-helpdesk'), 'Django': version('Django')}))"],
        capture_output=True, text=True)
    if probe.returncode != 0:
        raise BenchError(f"the helpdesk venv is broken ({probe.stderr.strip()[-500:]}); "
                         "run again with --reinstall")
    return json.loads(probe.stdout)


# --- django-helpdesk: a throw-away project ---------------------------------------------

SETTINGS = """\
# Throw-away settings for the benchmark, after django-helpdesk's docs/install.rst.
SECRET_KEY = "benchmark-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",      # domain for links in notification mail
    "django.contrib.admin",      # helpdesk admin/maintenance
    "django.contrib.humanize",   # elapsed time formatting
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",            # helpdesk's API
    "django_cleanup.apps.CleanupConfig",
    "helpdesk",
]
HELPDESK_TEAMS_MODE_ENABLED = False  # pinax-teams is not installed
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "hdbench.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": %(db)r}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# Outgoing mail stays in memory: the acknowledgements are rendered, never delivered.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = %(address)r

MEDIA_ROOT = %(media)r
MEDIA_URL = "/media/"
STATIC_URL = "/static/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
"""

URLS = """\
from django.urls import include, path

urlpatterns = [path("helpdesk/", include("helpdesk.urls"))]
"""

MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdbench.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

MAKE_QUEUE = """\
from helpdesk.models import Queue

Queue.objects.create(
    title="Ho tro khach hang",
    slug="hotro",
    email_address=%(address)r,
    allow_email_submission=True,
    email_box_type="local",
    email_box_local_dir=%(folder)r,
)
print(Queue.objects.count(), "queue")
"""


def make_helpdesk_project(tmp: Path, folder: Path) -> Path:
    project = tmp / "helpdesk"
    package = project / "hdbench"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS % {
        "db": str(project / "helpdesk.sqlite3"), "media": str(project / "media"),
        "address": QUEUE_ADDRESS})
    (package / "urls.py").write_text(URLS)
    (project / "manage.py").write_text(MANAGE)
    manage = [str(VENV_PY), "manage.py"]
    step("django-helpdesk: migrate", manage + ["migrate", "--noinput"], cwd=project)
    step("django-helpdesk: create the queue",
         manage + ["shell", "-c", MAKE_QUEUE % {"address": QUEUE_ADDRESS,
                                                "folder": str(folder)}], cwd=project)
    return project


def time_helpdesk(project: Path, folder: Path) -> dict[str, object]:
    early = replies_before_parent(folder)
    print(f"django-helpdesk: manage.py get_email on {folder.name}/ ...", flush=True)
    log = project / "get_email.log"
    with log.open("w") as out:
        started = time.perf_counter()
        code = subprocess.run([str(VENV_PY), "manage.py", "get_email"], cwd=project,
                              stdout=out, stderr=subprocess.STDOUT).returncode
        seconds = time.perf_counter() - started
    if code != 0:
        raise BenchError(f"get_email exited {code}:\n{tail_of(log)}")
    db = sqlite3.connect(project / "helpdesk.sqlite3")
    try:
        def one(sql: str) -> int:
            return db.execute(sql).fetchone()[0]
        tickets = one("SELECT COUNT(*) FROM helpdesk_ticket")
        followups = one("SELECT COUNT(*) FROM helpdesk_followup")
        attachments = one("SELECT COUNT(*) FROM helpdesk_followupattachment")
        acknowledged = one("SELECT COUNT(*) FROM helpdesk_followup WHERE email_recipients "
                           "IS NOT NULL AND email_recipients NOT IN ('', '[]')")
    finally:
        db.close()
    left = len(list(folder.iterdir()))
    problems = [line for line in log.read_text(errors="replace").splitlines()
                if "Traceback" in line or "failed" in line.lower()]
    if left or problems:
        print(f"  warning: {left} file(s) left unprocessed in {folder.name}/; "
              f"get_email said: {' | '.join(problems[:3]) or '(nothing)'}")
    return {"seconds": seconds, "created": tickets, "joined": followups - tickets,
            "detail": f"{followups} follow-ups, {attachments} attachments, "
                      f"{acknowledged} acknowledgements rendered (locmem), "
                      f"{left} files left; {early} replies came before the message "
                      f"they answer in os.listdir() order (get_email's order), so they "
                      f"could not thread and opened tickets of their own"}


def replies_before_parent(folder: Path) -> int:
    """Replies that get_email will read before the message they answer: it takes the files
    in os.listdir() order (on most file systems neither name nor creation order)."""
    parser = BytesHeaderParser(policy=email.policy.default)
    seen: set[str] = set()
    early = 0
    for name in os.listdir(folder):
        with open(folder / name, "rb") as f:
            headers = parser.parse(f)
        parent = (headers.get("In-Reply-To") or "").strip()
        if parent and parent not in seen:
            early += 1
        seen.add((headers.get("Message-ID") or "").strip())
    return early


# --- Switchboard -----------------------------------------------------------------------


def make_switchboard_config(tmp: Path) -> Path:
    """config.yaml with raw mail and attachments kept in the temporary directory."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    for key, value in (("dir", tmp / "sb-attachments"), ("raw_dir", tmp / "sb-raw")):
        text, count = re.subn(rf"(?m)^(\s+{key}:\s*)var/\S+", rf"\g<1>{value}", text)
        if count != 1:
            raise BenchError(f"config.yaml: expected one `{key}: var/...` line under "
                             f"email:, found {count}; update make_switchboard_config()")
    path = tmp / "switchboard.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def time_switchboard(tmp: Path, config: Path, folder: Path) -> dict[str, object]:
    switchboard = Path(sys.executable).with_name("switchboard")
    if not switchboard.exists():
        raise BenchError(f"{switchboard} not found: run this with the project venv's python "
                         "(.venv/bin/python) after `pip install -e .`")
    db = tmp / "switchboard.sqlite3"
    print(f"Switchboard: switchboard ingest-eml {folder.name}/ ...", flush=True)
    env = {**os.environ, "SWITCHBOARD_SECRET": "bench"}
    env.pop("SWITCHBOARD_DATABASE_URL", None)
    env.pop("SWITCHBOARD_CONFIG", None)
    started = time.perf_counter()
    result = subprocess.run(
        [str(switchboard), "--config", str(config), "--db", f"sqlite:///{db}",
         "ingest-eml", str(folder), "--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchError(f"switchboard ingest-eml exited {result.returncode}:\n"
                         f"{(result.stdout + result.stderr)[-3000:]}")
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    counts = {action: int(n) for n, action in re.findall(r"(\d+) (\w+)", summary.split(":")[-1])}
    if "created" not in counts:
        raise BenchError(f"could not read the summary line of ingest-eml: {summary!r}")
    print(f"  {summary}")
    return {"seconds": seconds, "created": counts["created"], "joined": counts.get("joined", 0),
            "detail": summary.split(": ", 1)[-1]}


# --- helpers ---------------------------------------------------------------------------


def step(what: str, command: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise BenchError(f"{what} failed (exit {result.returncode}): {' '.join(command)}\n"
                         f"{(result.stdout + result.stderr)[-3000:]}")


def tail_of(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:]


def report(messages: int, sb: dict[str, object], hd: dict[str, object]) -> None:
    rows = [("Switchboard ingest-eml", sb), ("django-helpdesk get_email", hd)]
    print()
    print(f"{'':27}{'messages':>9}{'seconds':>10}{'msg/s':>9}{'tickets':>9}{'replies':>9}")
    for name, r in rows:
        seconds = float(r["seconds"])  # type: ignore[arg-type]
        print(f"{name:27}{messages:>9}{seconds:>10.2f}{messages / seconds:>9.0f}"
              f"{r['created']:>9}{r['joined']:>9}")
    ratio = float(hd["seconds"]) / float(sb["seconds"])  # type: ignore[arg-type]
    print(f"\nratio (django-helpdesk seconds / Switchboard seconds): {ratio:.1f}x\n")
    for name, r in (("Switchboard", sb), ("django-helpdesk", hd)):
        print(textwrap.fill(f"{name}: {r['detail']}", width=92, subsequent_indent="  "))
    print("Seconds are the wall-clock time of the whole command, interpreter start-up "
          "included;\n\"replies\" are messages added to an existing ticket.")


if __name__ == "__main__":
    sys.exit(main())
