"""History-aware ranking: who usually approves, who is busy, who is quick; and expected times."""

from __future__ import annotations

from tests.approvers.orgs import LARGE, MANAGER, acting, alternates, at, org, policy, route
from tools.approvers.org import SpendRequest
from tools.approvers.ranking import Decision, History, department, expected_total, waiting_on

FINANCE = policy(("Finance", {}, ["finance_team"]))


def _history(*decisions: tuple[str, str, str | None, float]) -> History:
    """(principal, team, category, hours) per decision, decided by the principal."""
    history = History(org())
    for principal, team, category, hours in decisions:
        history.add(Decision(team, category, at(principal), at(principal), hours))
        history.add_typical(hours)
    return history


def _request(team: str = "Platform", category: str | None = None) -> SpendRequest:
    return SpendRequest(at("dev"), team, 30_000, category)


def test_the_person_who_usually_approves_this_teams_requests_comes_first() -> None:
    history = _history(("ben", "Platform", None, 5.0), ("ada", "Sales", None, 1.0))
    chain = route(FINANCE, "dev", "300", prefer=history.preference(_request()))

    assert acting(chain) == ["ben"]
    assert alternates(chain) == ["ada"]


def test_the_department_and_the_category_count_too() -> None:
    by_department = _history(("ben", "Research", None, 5.0))  # Research is in Engineering, like Platform
    by_category = _history(("ben", "Sales", "MEALS", 5.0))

    assert acting(route(FINANCE, "dev", "300", prefer=by_department.preference(_request()))) == ["ben"]
    preference = by_category.preference(_request(category="MEALS"))
    assert acting(route(FINANCE, "dev", "300", category="MEALS", prefer=preference)) == ["ben"]


def test_this_team_weighs_more_than_the_department() -> None:
    history = _history(("ada", "Platform", None, 5.0), ("ben", "Research", None, 5.0))

    assert acting(route(FINANCE, "dev", "300", prefer=history.preference(_request()))) == ["ada"]


def test_between_equally_usual_people_the_less_busy_comes_first() -> None:
    history = _history()
    history.pending[at("ada")] = 2

    assert acting(route(FINANCE, "dev", "300", prefer=history.preference(_request()))) == ["ben"]


def test_then_the_quicker_one() -> None:
    history = _history(
        *(("ben", "Sales", None, 2.0) for _ in range(3)), *(("ada", "Sales", None, 9.0) for _ in range(3))
    )

    assert acting(route(FINANCE, "dev", "300", prefer=history.preference(_request()))) == ["ben"]


def test_median_hours_need_a_few_decisions() -> None:
    history = _history(("ada", "Sales", None, 3.0), ("ada", "Sales", None, 5.0))

    assert history.median_hours(at("ada")) is None
    history.add(Decision("Sales", None, at("ada"), at("ada"), 40.0))
    assert history.median_hours(at("ada")) == 5.0


def test_expected_hours_fall_back_to_the_companys_typical_time() -> None:
    history = _history(
        *(("ada", "Sales", None, hours) for hours in (2.0, 4.0, 6.0)), ("ben", "Sales", None, 20.0)
    )

    assert history.expected_hours(at("ada")) == 4.0
    assert history.expected_hours(at("ben")) == 5.0  # the median of 2, 4, 6, 20
    assert _history().expected_hours(at("ada")) is None


def test_expected_total_adds_the_steps_up() -> None:
    history = _history(
        *(("lead", "Platform", None, 2.0) for _ in range(3)),
        *(("cto", "Platform", None, 10.0) for _ in range(3)),
    )
    chain = route(policy(MANAGER, ("Second level", {}, ["manager_of:team_manager"])), "dev", "300")

    assert expected_total(history, chain) == 12.0


def test_no_expected_total_for_an_incomplete_chain_or_without_history() -> None:
    history = _history(("ada", "Sales", None, 2.0))

    assert expected_total(history, route(policy(MANAGER), "ceo", "300")) is None
    assert expected_total(_history(), route(policy(MANAGER), "dev", "300")) is None


def test_an_open_request_waits_on_its_next_undecided_step() -> None:
    chain = route(policy(MANAGER, LARGE), "dev", "8000")

    assert [waiting_on(chain, decided) for decided in range(4)] == [at("cto"), at("ceo"), at("ada"), None]


def test_department_is_the_team_just_below_the_top() -> None:
    company = org()

    assert [department(company, team) for team in ("Platform", "Engineering", "Executive")] == [
        "Engineering",
        "Engineering",
        "Executive",
    ]
