"""The request files the wrk scripts cycle through, and the requests the probe sends once.

Written by bench/seed.py right after seeding (it knows the rows), into WORKDIR:
  course_ids.txt   visible course ids (detail and chapters pick one at random per request)
  login.txt        JSON login bodies of history users
  pay.txt          `jwt <token>` TAB JSON body: 1-2 buyable courses with their exact total
  notify.txt       signed form bodies, per wrk thread: each order's notify, then again later
  progress.txt     `jwt <token>` TAB path TAB JSON body: a learner's report of a lesson they own,
                   half of them lessons with a row already (UPDATE), half a first report (INSERT)
Returns the manifest (file names, counts, the probe's requests) for bench/run.py.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import alipay, config
from .seeded import Seeded, username

PAY_LINES = 2_000
BEIJING = timezone(timedelta(hours=8))


def _pay_body(courses: list[Any]) -> str:
    total = sum((c.real_price for c in courses), Decimal("0.00"))
    return json.dumps({"courses": [c.id for c in courses], "total_amount": f"{total:.2f}"})


def _interleave_duplicates(bodies: list[str], threads: int) -> list[str]:
    """Give each wrk thread its share of notifies as u0 u1 d0 u2 d1 ... (d = the same body
    again, a redelivery), and lay the shares out so thread t reads lines t, t+T, t+2T, ..."""
    if len(bodies) % threads:
        raise ValueError("NOTIFY_ORDERS must be a multiple of the wrk thread count")
    shares = []
    for t in range(threads):
        mine = bodies[t::threads]
        sequence = [mine[0]]
        for i in range(1, len(mine)):
            sequence += [mine[i], mine[i - 1]]
        sequence.append(mine[-1])
        shares.append(sequence)
    return [shares[line % threads][line // threads] for line in range(len(shares[0]) * threads)]


# Lessons the learners own: with a progress row already (the most recent rows), and without
# one (the lessons of the last entitlements whose course has no row of that learner).
_STARTED_LESSONS = "SELECT user_id, section_id FROM luffy_lesson_progress ORDER BY id DESC LIMIT %s"
_NEW_LESSONS = (
    "SELECT uc.user_id, MIN(s.id) FROM luffy_user_course uc"
    " JOIN luffy_course_chapter ch"
    "  ON ch.course_id = uc.course_id AND ch.is_show = 1 AND ch.is_delete = 0"
    " JOIN luffy_course_section s ON s.chapter_id = ch.id AND s.is_show = 1 AND s.is_delete = 0"
    " WHERE NOT EXISTS (SELECT 1 FROM luffy_lesson_progress p"
    "  WHERE p.course_id = uc.course_id AND p.user_id = uc.user_id)"
    " GROUP BY uc.id ORDER BY uc.id DESC LIMIT %s"
)


def _progress_lines(rng: random.Random) -> list[str]:
    """Reports of owned lessons, started and new ones alternating. Positions stay under 5
    minutes: every seeded lesson is at least that long."""
    from django.db import connection
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.user.models import User

    half = config.PROGRESS_LINES // 2
    with connection.cursor() as cursor:
        cursor.execute(_STARTED_LESSONS, [half])
        started = cursor.fetchall()
        cursor.execute(_NEW_LESSONS, [half])
        new = cursor.fetchall()
    users = User.objects.in_bulk({user for user, _ in started + new})
    tokens = {pk: f"jwt {AccessToken.for_user(user)}" for pk, user in users.items()}
    lines = []
    for pair in zip(started, new, strict=False):
        for user, section in pair:
            position = rng.randint(10, 290)
            body = json.dumps({"position": position, "watched": position - rng.randint(0, 10)})
            lines.append(f"{tokens[user]}\t/api/v1/course/progress/{section}/\t{body}")
    return lines


def write(workdir: Path, seeded: Seeded, alipay_private_key: Path) -> dict[str, Any]:
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.user.models import User

    rng = random.Random(7)  # noqa: S311 - test data
    workdir.mkdir(parents=True, exist_ok=True)
    visible = seeded.visible_ids
    (workdir / "course_ids.txt").write_text("".join(f"{i}\n" for i in visible))

    logins = [
        json.dumps({"username": username(u), "password": config.PASSWORD})
        for u in range(1, min(config.LOGIN_USERS, seeded.history_users) + 1)
    ]
    (workdir / "login.txt").write_text("".join(f"{line}\n" for line in logins))

    buyers = User.objects.filter(pk__in=seeded.placement_user_ids).order_by("pk")
    tokens = [f"jwt {AccessToken.for_user(user)}" for user in buyers]
    buyable = seeded.buyable
    pay_lines = []
    for n in range(PAY_LINES):
        courses = rng.sample(buyable, 2 if n % 4 == 0 else 1)
        pay_lines.append(f"{tokens[n % len(tokens)]}\t{_pay_body(courses)}")
    (workdir / "pay.txt").write_text("".join(f"{line}\n" for line in pay_lines))

    paid_at = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    bodies = [
        alipay.form_body(
            alipay.signed_notify(
                out_trade_no,
                amount,
                trade_no=f"2026{10**23 + j:024d}",
                gmt_payment=paid_at,
                alipay_private_key=alipay_private_key,
            )
        )
        for j, (out_trade_no, amount) in enumerate(seeded.notify_orders)
    ]
    probe_notify, load_bodies = bodies[0], bodies[1:]
    notify_lines = _interleave_duplicates(load_bodies, config.WRK_THREADS)
    (workdir / "notify.txt").write_text("".join(f"{line}\n" for line in notify_lines))

    progress_lines = _progress_lines(rng)
    (workdir / "progress.txt").write_text("".join(f"{line}\n" for line in progress_lines))

    return {
        "files": {
            "course_ids": "course_ids.txt",
            "login": "login.txt",
            "pay": "pay.txt",
            "notify": "notify.txt",
            "progress": "progress.txt",
        },
        "visible_courses": len(visible),
        "notify_unique": len(load_bodies),
        "notify_lines": len(notify_lines),
        "probe": {
            "course_id": visible[len(visible) // 2],
            "login_body": logins[0],
            "pay_authorization": pay_lines[0].split("\t")[0],
            "pay_body": pay_lines[0].split("\t")[1],
            "notify_body": probe_notify,
            "progress_line": progress_lines[0],
        },
    }
