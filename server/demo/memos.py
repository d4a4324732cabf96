"""The notes people type on their expenses: often missing, sometimes German, usually short.

A memo is written with a probability that depends on the category (client entertainment almost
always names the guests, a coffee rarely says anything). Templates only use context the caller has
(trip city, conference, colleague) or details that can be invented on the spot (client, part, book).
"""

from __future__ import annotations

import random
import string

from faker import Faker

MEMO_RATE = {
    "MEALS": 0.2,
    "MEALS-CLIENT": 0.85,
    "TEAM-EVENTS": 0.7,
    "TRAVEL-AIR": 0.5,
    "TRAVEL-HOTEL": 0.45,
    "TRAVEL-RAIL": 0.45,
    "TRAVEL-GROUND": 0.3,
    "HARDWARE": 0.6,
    "PROTOTYPING": 0.5,
    "OFFICE": 0.35,
    "SOFTWARE": 0.3,
    "CLOUD": 0.15,
    "CONFERENCES": 0.7,
    "TRAINING": 0.5,
    "MARKETING-ADS": 0.4,
    "MARKETING-EVENTS": 0.6,
    "RECRUITING": 0.6,
    "PROFESSIONAL-SERVICES": 0.7,
    "MEMBERSHIPS": 0.5,
    "FACILITIES": 0.5,
    "VEHICLE": 0.3,
    "TELECOM": 0.3,
    "SHIPPING": 0.5,
    "MISC": 0.8,
}

# fmt: off
TEMPLATES: dict[str, tuple[str, ...]] = {
    "MEALS": ("Lunch", "Working lunch", "Dinner on the road", "Lunch in {city}", "Breakfast", "Coffee",
              "Abendessen Dienstreise", "Late dinner before release", "Snack at the airport", "Mittagessen"),
    "MEALS-CLIENT": ("Dinner with {client}", "Lunch with {client} ({n} pax)", "Bewirtung {client}",
                     "Client dinner {client} - pilot kickoff", "Lunch with {client} procurement",
                     "Drinks with {client} after demo", "Geschäftsessen mit {client}"),
    "TEAM-EVENTS": ("Team offsite", "Team lunch after release", "Farewell for {person}",
                    "Welcome lunch new joiners", "Quarterly team event", "Pizza for hackathon",
                    "Teamevent Q{q}"),
    "TRAVEL-AIR": ("Flight to {city}", "Flight {home}-{dest}", "Flug {city} Kundentermin",
                   "Flight {city} for {purpose}", "Rebooking fee"),
    "TRAVEL-HOTEL": ("Hotel {city}, {nights} nights", "Hotel for {purpose}", "Übernachtung {city}",
                     "Hotel {city}"),
    "TRAVEL-RAIL": ("Train to {city}", "ICE {home}-{dest}", "Bahnticket {city}",
                    "Train {city} for {purpose}"),
    "TRAVEL-GROUND": ("Taxi to airport", "Taxi from airport", "Taxi to {client}", "Taxi Hauptbahnhof",
                      "Parking at customer site", "Taxi in {city}", "Uber to office"),
    "HARDWARE": ("USB-C dock", "Monitor for home office", "Keyboard and mouse", "Headset for calls",
                 "Replacement charger", "HDMI adapters for meeting room", "Webcam", "Phone replacement",
                 "Laptop stand"),
    "PROTOTYPING": ("Stepper motors for gripper v{n}", "PCB batch rev {rev}", "Sensors for test rig",
                    "Connectors and cable harness", "Aluminium profiles for frame", "Bearings for joint {n}",
                    "LiDAR eval kit", "Filament for 3D printer", "Screws, nuts, washers",
                    "Servo spare parts"),
    "OFFICE": ("Printer paper", "Coffee beans for the office", "Whiteboard markers", "Desk chair",
               "Kitchen supplies", "Post-its and notebooks", "Büromaterial", "Plants for the office"),
    "SOFTWARE": ("License for {tool}", "{tool} subscription", "Annual renewal", "Font licence for website",
                 "Diagram tool"),
    "CLOUD": ("Test server", "Staging environment", "GPU instance for training run", "Domain renewal"),
    "CONFERENCES": ("{conf} ticket", "Ticket {conf}", "{conf} - booth staff pass", "{conf} early bird"),
    "TRAINING": ("Online course", "Book: {book}", "Certification exam", "{course} course", "Fachbuch",
                 "Safety training ISO 10218"),
    "MARKETING-ADS": ("LinkedIn campaign {campaign}", "Google Ads {campaign}", "Retargeting {campaign}",
                      "Sponsored post {campaign}"),
    "MARKETING-EVENTS": ("Flyers for trade fair", "Stand {conf}", "Roll-ups for trade fair",
                         "Hoodies with logo", "Business cards", "Give-aways for {conf}"),
    "RECRUITING": ("Job ad: {job}", "Stellenanzeige {job}", "Placement fee {job}", "Sourcing licence"),
    "PROFESSIONAL-SERVICES": ("Patent application fee", "Trademark renewal",
                              "Notary fee for capital increase", "Commercial register extract",
                              "Freelance design work", "Translation of manual",
                              "EP validation fees"),
    "MEMBERSHIPS": ("Annual membership", "Mitgliedsbeitrag", "Membership renewal"),
    "FACILITIES": ("Day passes for visiting team", "Meeting room rental", "Repair of lab door",
                   "Shelving for the lab", "Cleaning after offsite", "Forklift rental for robot delivery"),
    "VEHICLE": ("Fuel service van", "Tanken Servicefahrzeug", "Vignette Austria", "Van inspection"),
    "TELECOM": ("eSIM for {city} trip", "In-flight wifi", "Roaming package", "Mobile plan"),
    "SHIPPING": ("Return of demo robot from {client}", "Spare parts to {client}", "Samples to {client}",
                 "Versand Ersatzteile", "Courier documents to notary"),
    "MISC": ("Flowers for {person}", "Gift for {client}", "First aid kit", "Farewell gift", "Sonstiges"),
}
REFUND_MEMOS = ("Refund", "Refund - cancelled", "Gutschrift", "Refund: returned item", "Storno")
_BOOKS = ("Designing Data-Intensive Applications", "Probabilistic Robotics", "Modern Robotics",
          "Clean Architecture", "The Mom Test", "Effective Python")
_COURSES = ("ROS 2", "Kubernetes", "SAFe", "Rust", "Negotiation", "Deep Learning")
_CAMPAIGNS = ("Q{q} pipeline", "automatica", "AMR launch", "webinar", "retargeting EU", "case study")
_JOBS = ("Senior Robotics Engineer", "Field Service Technician", "Account Executive DACH", "Data Engineer",
         "Embedded Developer", "Werkstudent Vertrieb")
_TOOLS = ("Sublime Text", "Postman", "Balsamiq", "Camtasia", "Little Snitch", "TablePlus")
# fmt: on


class Memos:
    def __init__(self, seed: int, rng: random.Random) -> None:
        fake = Faker("de_DE")
        fake.seed_instance(seed)
        # Customers are mostly German Mittelstand; a pool keeps the same names coming back.
        self.clients = [fake.company() for _ in range(60)]
        self._rng = rng
        self._fields = {
            category: [{name for _, name, _, _ in string.Formatter().parse(t) if name} for t in templates]
            for category, templates in TEMPLATES.items()
        }

    def client(self) -> str:
        return self._rng.choice(self.clients)

    def write(self, category: str, context: dict[str, str] | None = None) -> str:
        if self._rng.random() >= MEMO_RATE.get(category, 0.3):
            return ""
        return self.compose(category, context or {})

    def compose(self, category: str, context: dict[str, str]) -> str:
        templates = TEMPLATES[category]
        fields = self._fields[category]
        known = context.keys() | _INVENTED
        usable = [i for i, names in enumerate(fields) if names <= known]
        index = self._rng.choice(usable) if usable else 0
        values = {name: context.get(name) or self._invent(name) for name in sorted(fields[index])}
        return templates[index].format(**values)

    def _invent(self, name: str) -> str:
        rng = self._rng
        if name == "client":
            return rng.choice(self.clients)
        if name in ("n", "q"):
            return str(rng.randint(2, 6) if name == "n" else rng.randint(1, 4))
        if name == "rev":
            return rng.choice("BCDEFG")
        if name == "campaign":
            return rng.choice(_CAMPAIGNS).format(q=rng.randint(1, 4))
        pool = _POOLS.get(name)
        return rng.choice(pool) if pool else ""  # context the caller did not have: leave it out


_POOLS = {"book": _BOOKS, "course": _COURSES, "job": _JOBS, "tool": _TOOLS}
_INVENTED = frozenset({"client", "n", "rev", "q", "campaign", *_POOLS})
