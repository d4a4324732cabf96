"""Business trips and conferences: bursts of related charges clustered over a few days.

A trip is a booking (flight or train, sometimes a prepaid hotel) a few days to weeks ahead, then on
the road: taxis, meals in the local currency, a client dinner, an eSIM abroad, and the hotel folio
at checkout. Conference tickets are bought the month before; fair weeks make hotels dearer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server.demo.model import City, Person
from server.demo.places import CITIES, CONFERENCES, EURO_COUNTRIES, RAIL_COUNTRIES, Conference
from server.demo.profiles import PROFILES
from server.demo.timeline import TRAVEL_SEASON, Month, add_months, poisson
from server.demo.world import World

_RAIL_PAIRS = frozenset(
    {
        frozenset({"MUC", "VIE"}),
        frozenset({"LON", "PAR"}),
        frozenset({"LON", "MAN"}),
        frozenset({"NYC", "BOS"}),
    }
)
_SENIOR = frozenset({"ceo", "cfo", "director"})
_PREPAID_HOTELS = frozenset({"Booking.com", "Airbnb"})
_BOOTH_EUR = 18000.0
_FAIR_WEEK = 1.4


@dataclass(frozen=True, slots=True)
class Trip:
    person: Person
    dest: City
    start: dt.date
    nights: int
    purpose: str
    booked: dt.date
    client: str = ""
    conference: bool = False


def trips_month(world: World, person: Person, month: Month) -> None:
    # Trips later this month are already booked in the current month: the span runs to month end.
    span = world.active_span(person, month, ahead=True)
    if span is None:
        return
    profile = PROFILES[world.org.by_team[person.team].profile]
    season = TRAVEL_SEASON[month.first.month - 1] * world.drift_factor(person.team, month)
    for _ in range(poisson(world.rng, profile.trips * season * person.intensity)):
        cities = [c for c in profile.destinations if c != person.home]
        dest = CITIES[world.rng.choices(cities, weights=[profile.destinations[c] for c in cities])[0]]
        start = world.work_day(*span)
        nights = world.rng.choice((1, 1, 2, 2, 3)) if dest.country != "US" else world.rng.randint(3, 6)
        booked = max(month.first, start - dt.timedelta(days=world.rng.randint(2, 21)))
        client = world.memos.client() if profile.client_facing or world.rng.random() < 0.4 else ""
        purpose = f"meeting {client}" if client else world.rng.choice(("team week", "offsite", "workshop"))
        take_trip(world, Trip(person, dest, start, nights, purpose, booked, client))


def take_trip(world: World, trip: Trip) -> None:
    end = trip.start + dt.timedelta(days=trip.nights)
    if not (trip.person.employed_on(trip.booked) and trip.person.employed_on(end)):
        return
    home = CITIES[trip.person.home]
    context = {
        "city": trip.dest.name,
        "dest": trip.dest.code,
        "home": home.code,
        "purpose": trip.purpose,
        "nights": str(trip.nights),
        "client": trip.client,
    }
    _transport(world, trip, home, context)
    _hotel(world, trip, context)
    _on_the_road(world, trip, home, context)


def _rail_ok(home: City, dest: City) -> bool:
    domestic = home.country == dest.country and home.country in RAIL_COUNTRIES
    return domestic or frozenset({home.code, dest.code}) in _RAIL_PAIRS


def _transport(world: World, trip: Trip, home: City, context: dict[str, str]) -> None:
    shop, rng = world.shop, world.rng
    if _rail_ok(home, trip.dest) and rng.random() < 0.75:
        merchant = shop.pick("rail", home, trip.dest)
        if merchant is not None:
            spend = shop.charge(trip.person, merchant, home, trip.booked, slot="rail")
            spend.memo = world.memos.write(spend.category, context)
            world.emit(spend)
            return
    airline = shop.pick("air", home, trip.dest)
    if airline is None:
        return
    fare = airline.median * _route_factor(home, trip.dest)
    if trip.dest.country == "US" and trip.person.role in _SENIOR:
        fare *= 2.2  # business class across the Atlantic
    legs = 1 if rng.random() < 0.8 else 2  # a return ticket, or two one-ways
    for _ in range(legs):
        spend = shop.charge(trip.person, airline, home, trip.booked, eur=fare / legs, slot="air")
        spend.memo = world.memos.write(spend.category, context)
        world.emit(spend)


def _route_factor(home: City, dest: City) -> float:
    if home.country == dest.country:
        return 0.8
    if "US" in (home.country, dest.country):
        return 3.3
    return 1.0


def _hotel(world: World, trip: Trip, context: dict[str, str]) -> None:
    hotel = world.shop.pick("hotel", trip.dest)
    if hotel is None:
        return
    night = trip.dest.hotel_night / 150 * (_FAIR_WEEK if trip.conference else 1.0)
    prepaid = hotel.name in _PREPAID_HOTELS
    day = trip.booked if prepaid else trip.start + dt.timedelta(days=trip.nights)
    spend = world.shop.charge(
        trip.person, hotel, trip.dest, day, eur=hotel.median * night * trip.nights, slot="hotel"
    )
    spend.memo = world.memos.write(spend.category, context)
    world.emit(spend)


def _on_the_road(world: World, trip: Trip, home: City, context: dict[str, str]) -> None:
    shop, rng, person = world.shop, world.rng, trip.person
    days = [trip.start + dt.timedelta(days=offset) for offset in range(trip.nights + 1)]
    charges: list[tuple[str, City, dt.date]] = []
    if rng.random() < 0.5:
        charges.append(("ground", home, trip.start))  # to the airport or station
    charges += [("ground", trip.dest, rng.choice(days)) for _ in range(rng.randint(1, 2 + trip.nights))]
    charges += [("meal", trip.dest, day) for day in days for _ in range(poisson(rng, 1.3))]
    if trip.client and rng.random() < 0.5:
        charges.append(("meal_client", trip.dest, rng.choice(days)))
    if trip.dest.country not in EURO_COUNTRIES and trip.dest.country != home.country and rng.random() < 0.35:
        charges.append(("telecom", trip.dest, trip.start))
    if trip.dest.country == "US" and rng.random() < 0.3:
        charges.append(("car", trip.dest, days[-1]))
    for slot, city, day in charges:
        merchant = shop.pick(slot, city)
        if merchant is None:
            continue
        spend = shop.charge(person, merchant, city, day, slot=slot)
        spend.memo = world.memos.write(spend.category, {**context, "city": city.name})
        world.emit(spend)


def conferences_month(world: World, month: Month) -> None:
    """Tickets bought this month for next month's conferences; the trips happen next month."""
    upcoming = add_months(month.first, 1)
    for conference in CONFERENCES:
        if conference.month != upcoming.month:
            continue
        day = dt.date(upcoming.year, conference.month, conference.day)
        for team in world.org.teams:
            if team.profile in conference.audience:
                for person in world.org.members[team.name]:
                    if world.rng.random() < conference.popularity:
                        _attend(world, person, conference, day, month)
        if conference.booth:
            _book_booth(world, conference, month)


def _attend(world: World, person: Person, conference: Conference, day: dt.date, month: Month) -> None:
    bought = world.work_day(month.first, month.last)
    if not (person.employed_on(bought) and person.employed_on(day)):
        return
    city = CITIES[conference.city]
    ticket = world.shop.charge(person, conference.ticket, city, bought, slot="conference")
    ticket.memo = world.memos.write(ticket.category, {"conf": conference.name, "city": city.name})
    world.emit(ticket)
    if conference.city != person.home:
        arrive = day - dt.timedelta(days=1)
        take_trip(
            world, Trip(person, city, arrive, conference.days, conference.name, bought, conference=True)
        )


def _book_booth(world: World, conference: Conference, month: Month) -> None:
    """Marketing pays the stand: an invoice from the same organiser the tickets come from."""
    marketing = next((t for t in world.org.teams if t.profile == "marketing"), None)
    head = world.org.by_email.get(marketing.manager_email or "") if marketing else None
    if head is None:
        return
    city = CITIES[conference.city]
    day = world.work_day(month.first, month.last)
    spend = world.shop.charge(
        head, conference.ticket, city, day, eur=_BOOTH_EUR, slot="booth", category="MARKETING-EVENTS"
    )
    spend.memo = world.memos.compose("MARKETING-EVENTS", {"conf": conference.name})
    world.emit(spend)
