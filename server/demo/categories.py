"""The demo company's chart of expense categories (categories.csv).

GL accounts follow the shape of the German SKR04 chart a GmbH's accountant would use; VAT rates are
the German ones (7% for hotels, rail and books, 0% for international flights and memberships).
"""

from __future__ import annotations

from server.demo.model import Category


def _cat(
    code: str,
    name: str,
    parent: str | None,
    gl: str,
    vat: str,
    mccs: str,
    confusable: str,
    description: str,
) -> Category:
    return Category(code, name, parent, gl, vat, description, tuple(mccs.split()), tuple(confusable.split()))


# fmt: off
CATEGORIES: tuple[Category, ...] = (
    _cat("TRAVEL", "Travel", None, "6650", "19", "", "",
         "Business travel; use the sub-category for flights, hotels, rail or local transport."),
    _cat("TRAVEL-AIR", "Flights", "TRAVEL", "6651", "0",
         "4511 3000 3001 3005 3007 3008 3010 3015 3035 3051 3058 3102 3245 3246", "TRAVEL-RAIL",
         "Airline tickets, seat reservations and baggage fees for business trips."),
    _cat("TRAVEL-HOTEL", "Hotels", "TRAVEL", "6652", "7",
         "7011 3501 3502 3504 3509 3533 3579 3583 3640 3642 3643 3668 3690 3811", "MEALS",
         "Hotel nights and other lodging on business trips, including booking platforms."),
    _cat("TRAVEL-RAIL", "Rail", "TRAVEL", "6653", "7", "4112", "TRAVEL-GROUND",
         "Train tickets, rail passes (BahnCard) and seat reservations."),
    _cat("TRAVEL-GROUND", "Taxis and local transport", "TRAVEL", "6654", "19",
         "4121 4111 4131 7512 7523 3355 3357", "TRAVEL-RAIL VEHICLE",
         "Taxis, ride hailing, public transport, car rental and parking while travelling."),
    _cat("MEALS", "Meals", None, "6660", "19", "5812 5814 5813 5811", "MEALS-CLIENT TEAM-EVENTS",
         "Meals for yourself while travelling or working late; not client entertainment."),
    _cat("MEALS-CLIENT", "Client entertainment", "MEALS", "6640", "19", "5812 5813", "MEALS",
         "Meals and drinks with customers, prospects or partners; name the guests in the memo."),
    _cat("TEAM-EVENTS", "Team events", None, "6130", "19", "7999 7996 7832", "MEALS",
         "Offsites, team dinners, Christmas parties and other staff events."),
    _cat("SOFTWARE", "Software and SaaS", None, "6837", "19", "5734 5817 5818 7372 5968", "CLOUD TELECOM",
         "Software licences and SaaS subscriptions (seats, plans, app purchases)."),
    _cat("CLOUD", "Cloud infrastructure", "SOFTWARE", "6838", "19", "4816 7372", "SOFTWARE",
         "Usage-based cloud and hosting: compute, storage, APIs, monitoring."),
    _cat("HARDWARE", "IT hardware", None, "6845", "19", "5045 5732 5734", "OFFICE PROTOTYPING",
         "Laptops, monitors, phones, docks and other IT equipment for staff."),
    _cat("PROTOTYPING", "Prototyping materials", None, "5100", "19", "5065 5085 5251 5046", "HARDWARE OFFICE",
         "Electronic components, PCBs, motors, sensors and workshop material for robot prototypes."),
    _cat("OFFICE", "Office supplies", None, "6815", "19", "5111 5943 5712 5021 5411 5200",
         "HARDWARE TEAM-EVENTS",
         "Stationery, furniture, kitchen and coffee supplies for the offices."),
    _cat("SHIPPING", "Shipping and postage", None, "6800", "19", "4215 9402 4214", "OFFICE",
         "Couriers, parcels and postage, including shipping robots and spare parts to customers."),
    _cat("TELECOM", "Telecom", None, "6805", "19", "4814 4899", "SOFTWARE",
         "Mobile plans, roaming and travel eSIMs, in-flight and hotel Wi-Fi."),
    _cat("MARKETING", "Marketing", None, "6600", "19", "", "",
         "Marketing; use the sub-category for advertising or events."),
    _cat("MARKETING-ADS", "Advertising", "MARKETING", "6601", "19", "7311", "SOFTWARE MARKETING-EVENTS",
         "Online advertising (LinkedIn, Google, Meta), sponsored content and review sites."),
    _cat("MARKETING-EVENTS", "Trade shows and promotion", "MARKETING", "6602", "19", "7333 7338 5137 7399",
         "CONFERENCES MARKETING-ADS",
         "Trade-show booths, sponsorships, printed material and branded merchandise."),
    _cat("CONFERENCES", "Conference tickets", None, "6822", "19", "7922 8699 7399",
         "TRAINING MARKETING-EVENTS",
         "Tickets for conferences and trade fairs you attend (travel goes under Travel)."),
    _cat("TRAINING", "Training and books", None, "6821", "7", "8299 8220 5942 5192", "CONFERENCES SOFTWARE",
         "Courses, certifications, online learning and professional books."),
    _cat("RECRUITING", "Recruiting", None, "6310", "19", "7361", "MARKETING-ADS",
         "Job ads, job boards, recruiting agencies and candidate travel."),
    _cat("PROFESSIONAL-SERVICES", "Professional services", None, "6825", "19", "8111 8931 7392 9399",
         "MEMBERSHIPS",
         "Legal and tax advice, notaries, patent and trademark fees, freelancers."),
    _cat("MEMBERSHIPS", "Memberships and dues", None, "6420", "0", "8699 8641", "PROFESSIONAL-SERVICES",
         "Industry associations, chambers of commerce and professional societies."),
    _cat("FACILITIES", "Facilities", None, "6335", "19", "6513 7349 5200 7394", "OFFICE",
         "Coworking desks, cleaning, repairs and equipment rental for the offices and the lab."),
    _cat("VEHICLE", "Vehicles and fuel", None, "6530", "19", "5541 5542 4784", "TRAVEL-GROUND",
         "Fuel, tolls and upkeep of the field-service vans."),
    _cat("MISC", "Other", None, "6300", "19", "5999 5399 7299", "OFFICE",
         "Anything that fits no other category; explain it in the memo."),
)
# fmt: on

BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
