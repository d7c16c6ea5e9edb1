"""A ticket's SLA clocks as plain data (stored as JSON on the ticket), and the pure functions
that move them: start, stop (met or missed), pause while someone else holds the ticket,
resume, recompute under another policy, and escalate when a point in time has passed.

A timer is `{"start", "target", "paused", "level", "done", "met"}`: its deadline is the
instant when `target + paused` business seconds have passed since `start` (`paused` counts
the business time it spent waiting on the customer, the supplier or the carrier). Levels:
0 on time, 1 yellow (the warning point passed), 2 red (the deadline passed), 3+ the
ladder's further steps. Levels only go up until a real event (an answer, a reopening)
restarts the timer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sla.policy import Policy

State = dict[str, Any]
Between = Callable[[datetime, datetime], float]  # business seconds, from the calendar
LEVEL_NAMES = {0: "none", 1: "yellow", 2: "red"}


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def new_state(policy: Policy, timers: Iterable[str], now: datetime) -> State:
    state: State = {"policy": policy.name, "timers": {}, "pause": None,
                    "waits": {}, "acknowledged": None}
    for name in timers:
        start_timer(state, policy, name, now)
    return state


def start_timer(state: State, policy: Policy, name: str, now: datetime) -> bool:
    """(Re)start `name` from `now`; False when the policy has no target for it."""
    target = policy.targets.get(name)
    if target is None:
        state["timers"].pop(name, None)
        return False
    state["timers"][name] = {"start": _iso(now), "target": target, "paused": 0.0,
                             "level": 0, "done": None, "met": None}
    if state.get("pause") and name in _pausable(state):
        state["pause"]["timers"] = sorted({*state["pause"]["timers"], name})
    return True


def _pausable(state: State) -> list[str]:
    pause = state.get("pause") or {}
    return list(pause.get("pauses", []))


def due(policy: Policy, timer: Mapping[str, Any]) -> datetime:
    return policy.calendar.add(_at(timer["start"]), timer["target"] + timer["paused"])


def warn_at(policy: Policy, timer: Mapping[str, Any]) -> datetime:
    return policy.calendar.add(_at(timer["start"]),
                               policy.warn.offset(timer["target"]) + timer["paused"])


def running(state: State) -> list[str]:
    paused = set((state.get("pause") or {}).get("timers", []))
    return [n for n, t in state["timers"].items() if t["done"] is None and n not in paused]


@dataclass(frozen=True, slots=True)
class Stopped:
    timer: str
    met: bool
    late_seconds: float


def stop(state: State, policy: Policy, name: str, now: datetime) -> Stopped | None:
    """The promise was kept (or not): the timer stops for good until restarted."""
    timer = state["timers"].get(name)
    if timer is None or timer["done"] is not None:
        return None
    deadline = due(policy, timer)
    timer["done"], timer["met"] = _iso(now), now <= deadline
    return Stopped(name, timer["met"], max(0.0, (now - deadline).total_seconds()))


def pause(state: State, holder: str, timers: Iterable[str], now: datetime,
          between: Between) -> None:
    """The ticket now waits on `holder`; `timers` (those the configuration says this wait
    pauses) stop counting. A second pause replaces the first (the holder changed)."""
    if state.get("pause"):
        resume(state, between, now)
    names = list(timers)
    state["pause"] = {"holder": holder, "since": _iso(now), "pauses": names,
                      "timers": [n for n in names if n in state["timers"]
                                 and state["timers"][n]["done"] is None]}


def resume(state: State, between: Between, now: datetime) -> float:
    """The holder answered: paused timers count again, their deadlines moved by the business
    time they waited (`between(a, b)` from the policy's calendar). Returns the wall seconds
    waited, which are added to the holder's total."""
    pause_info = state.get("pause")
    if not pause_info:
        return 0.0
    since = _at(pause_info["since"])
    business = between(since, now)
    for name in pause_info["timers"]:
        timer = state["timers"].get(name)
        if timer is not None and timer["done"] is None:
            timer["paused"] += business
    waited = max(0.0, (now - since).total_seconds())
    holder = pause_info["holder"]
    state["waits"][holder] = state["waits"].get(holder, 0.0) + waited
    state["pause"] = None
    return waited


def recompute(state: State, old: Policy, new: Policy) -> None:
    """Another policy applies (the category changed): each running timer keeps its start
    and its waits and takes the new target; a timer the new policy does not have stops."""
    state["policy"] = new.name
    for name, timer in list(state["timers"].items()):
        if timer["done"] is not None:
            continue
        target = new.targets.get(name)
        if target is None:
            del state["timers"][name]
            continue
        timer["target"] = target
        timer["level"] = 0  # re-earned at the next sweep against the new deadlines


@dataclass(frozen=True, slots=True)
class Escalation:
    timer: str
    level: int
    due: datetime
    late_seconds: float


def escalate(state: State, policy: Policy, now: datetime) -> list[Escalation]:
    """Raise each running timer to the level `now` deserves; one entry per level passed
    (a sweep that comes late still records yellow before red)."""
    steps: list[Escalation] = []
    acknowledged = state.get("acknowledged") is not None
    for name in running(state):
        timer = state["timers"][name]
        deadline = due(policy, timer)
        points = [warn_at(policy, timer), deadline]
        if not acknowledged:
            points += [deadline + timedelta(seconds=s.after_seconds) for s in policy.ladder]
        for level, point in enumerate(points, start=1):
            if level > timer["level"] and now >= point:
                timer["level"] = level
                steps.append(Escalation(name, level, deadline,
                                        max(0.0, (now - deadline).total_seconds())))
    return steps


def next_at(state: State, policy: Policy) -> datetime | None:
    """The next instant at which a running timer changes level (None: nothing to wait
    for). This is what the sweeper's index is on."""
    found: list[datetime] = []
    acknowledged = state.get("acknowledged") is not None
    for name in running(state):
        timer = state["timers"][name]
        level = timer["level"]
        if level == 0:
            found.append(warn_at(policy, timer))
        elif level == 1:
            found.append(due(policy, timer))
        elif not acknowledged and level - 2 < len(policy.ladder):
            found.append(due(policy, timer)
                         + timedelta(seconds=policy.ladder[level - 2].after_seconds))
    return min(found) if found else None


def overall(state: State) -> str:
    levels = [t["level"] for n, t in state["timers"].items() if t["done"] is None]
    top = max(levels, default=0)
    return LEVEL_NAMES.get(min(top, 2), "red")
