"""The nightly forecast snapshot, as a job: every running budget of the company ranked by risk
(forecast_budgets' answer, all of it), stored for outlay://forecasts/latest."""

from __future__ import annotations

from server.db.models import ForecastSnapshot
from server.jobs.runner import JobRun

SNAPSHOT = "forecast_snapshot"
MOST_BUDGETS = 5000


async def forecast_snapshot(run: JobRun) -> None:
    from tools.forecast import service  # numpy loads with the first forecast

    await run.progress(0, 1, "forecasting every running budget")
    async with run.app.sessions() as session, session.begin():
        caller = await run.caller(session)
        ranking = await service.rank_budgets(run.app, session, caller, None, MOST_BUDGETS)
        payload = ranking.model_dump(mode="json")
        session.add(ForecastSnapshot(company_id=run.company_id, as_of=ranking.as_of, payload=payload))
        await run.checkpoint_in(session, None, 1, 1, f"{ranking.count} budgets, {ranking.at_risk} at risk")
        await run.succeed_in(
            session,
            {"as_of": ranking.as_of.isoformat(), "budgets": ranking.count, "at_risk": ranking.at_risk},
        )


HANDLERS = {SNAPSHOT: forecast_snapshot}
