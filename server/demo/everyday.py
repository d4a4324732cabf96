"""Day-to-day spending: personal card use, team spend by the card holders, laptops for new hires."""

from __future__ import annotations

import datetime as dt
from functools import cache

from server.demo.model import Person
from server.demo.places import CITIES
from server.demo.profiles import PROFILES, Profile
from server.demo.timeline import DAYS_PER_MONTH, Month, add_months, poisson
from server.demo.world import World

LAPTOP_CYCLE_MONTHS = 36
_CHRISTMAS_PARTIES = 5.0  # December multiplies team events
# Ad platforms bill against an approved campaign budget, not charge by charge.
_CAMPAIGN_SLOTS = frozenset({"ads"})


@cache
def _slot_table(rates: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float], float]:
    slots, cumulative, total = [], [], 0.0
    for slot, rate in rates:
        total += rate
        slots.append(slot)
        cumulative.append(total)
    return slots, cumulative, total


def _personal(profile: Profile) -> tuple[list[str], list[float], float]:
    return _slot_table(tuple(profile.personal.items()))


def personal_month(world: World, person: Person, month: Month) -> None:
    span = world.active_span(person, month)
    if span is None:
        return
    first, last = span
    slots, cumulative, total = _personal(PROFILES[world.org.by_team[person.team].profile])
    share = ((last - first).days + 1) / DAYS_PER_MONTH
    count = poisson(world.rng, total * share * person.intensity * world.pace(person.team, month))
    if not count:
        return
    home = CITIES[person.home]
    for slot in world.rng.choices(slots, cum_weights=cumulative, k=count):
        merchant = world.shop.pick(slot, home)
        if merchant is None:
            continue
        spend = world.shop.charge(person, merchant, home, world.work_day(first, last), slot=slot)
        spend.memo = world.memos.write(spend.category, {"city": home.name})
        world.emit(spend)


def team_month(world: World, team_name: str, month: Month) -> None:
    """Shared team spend, at a rate per member, paid by the head or a lead."""
    team = world.org.by_team[team_name]
    shared = PROFILES[team.profile].shared
    members = [p for p in world.org.members[team_name] if p.employed_on(month.first)]
    holders = [p for p in members if p.email == team.manager_email or p.role == "manager"]
    if not shared or not holders:
        return
    december = month.first.month == 12
    rates = tuple(
        (slot, rate * (_CHRISTMAS_PARTIES if december and slot == "team_event" else 1.0))
        for slot, rate in shared.items()
    )
    slots, cumulative, total = _slot_table(rates)
    share = month.days / DAYS_PER_MONTH
    count = poisson(world.rng, total * len(members) * share * world.pace(team_name, month))
    for slot in world.rng.choices(slots, cum_weights=cumulative, k=count):
        payer = world.rng.choice(holders)
        home = CITIES[payer.home]
        merchant = world.shop.pick(slot, home)
        if merchant is None:
            continue
        spend = world.shop.charge(payer, merchant, home, world.work_day(month.first, month.last), slot=slot)
        spend.contracted = slot in _CAMPAIGN_SLOTS
        colleague = world.rng.choice(members).name.split()[0]
        spend.memo = world.memos.write(spend.category, {"city": home.name, "person": colleague})
        world.emit(spend)


def laptop_schedule(world: World) -> dict[int, list[tuple[Person, dt.date, str]]]:
    """Month index -> (person, day, why): a laptop on the first day, and a new one every three years."""
    schedule: dict[int, list[tuple[Person, dt.date, str]]] = {}
    window = world.window
    for person in world.org.people:
        due, reason = person.start, "new hire"
        while due <= window.today and (person.end is None or due <= person.end):
            if due >= window.start:
                schedule.setdefault(window.month_index(due), []).append((person, due, reason))
            due, reason = add_months(due, LAPTOP_CYCLE_MONTHS), "refresh"
    return schedule


def laptops_month(world: World, month: Month, due: list[tuple[Person, dt.date, str]]) -> None:
    """Someone in IT buys the laptops (with no IT team yet, the new person's manager does)."""
    for person, day, reason in due:
        bought = max(month.first, day - dt.timedelta(days=world.rng.randint(2, 10)))
        buyer = _laptop_buyer(world, person, bought)
        home = CITIES[buyer.home]
        merchant = world.shop.pick("laptop", home)
        if merchant is None:
            continue
        spend = world.shop.charge(buyer, merchant, home, bought, slot="laptop")
        if world.rng.random() < 0.75:
            spend.memo = (
                f"Laptop for {person.name}" if reason == "new hire" else f"Laptop refresh {person.name}"
            )
        world.emit(spend)


def _laptop_buyer(world: World, person: Person, day: dt.date) -> Person:
    it_team = next((t for t in world.org.teams if t.profile == "it"), None)
    if it_team is not None:
        staff = [p for p in world.org.members[it_team.name] if p.role == "employee" and p.employed_on(day)]
        if staff:
            return world.rng.choice(staff)
        lead = world.org.by_email.get(it_team.manager_email or "")
        if lead is not None:
            return lead
    return world.org.by_email.get(person.manager_email or "", person)
