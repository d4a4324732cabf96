"""MCP adapters for forecast_budget and forecast_budgets: arguments in, one service call, result out."""

# No `from __future__ import annotations`: the SDK evaluates these signatures to build the schemas.
import base64
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ImageContent, ToolAnnotations
from pydantic import Field

from server.calls import tool_call, tool_result
from server.context import AppContext
from server.kit.periods import Day, PeriodText
from tools.forecast.schemas import OUTLOOK_HELP, BudgetForecast, BudgetRanking, ForecastRequest

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

FORECAST_DESCRIPTION = f"""\
Will a team stay within its budget? Forecasts the total spend of a budget period at its end, with 80%
and 95% prediction intervals, the probability of overrunning the budget and the day the budget is
projected to be passed, the month-by-month path (actuals, then forecast) and the drivers: the
categories, merchants and people whose spend changed most against the previous period and the same
period last year.

Name the team (and optionally a category, by code or name, for a category budget). The period is
`period` (a year 2026, a quarter 2026-Q4 or a month 2026-11) or `date_from` + `date_to`; by default
the team's budget period running today (else the current quarter). Budgets that tile the period are
added up (four quarters make a year); if no budget matches, the forecast still comes, with budget
null and a note naming the budgets there are.

The expected total is spent to date + known (approved requests not spent yet) + committed (recurring
charges such as subscriptions, projected on their own dates) + variable (a seasonal statistical model
of the team's history with the month-to-date run rate folded in). Intervals and the probability come
from the same backtest-calibrated distribution; `method` says which model ran and any fallback (short
or sparse history). Outlook: {OUTLOOK_HELP} Set chart=true to also get a PNG chart. Read-only."""

RANKING_DESCRIPTION = """\
Every budget of the company ranked by the risk of overrunning: highest overrun probability first,
then the largest expected overrun. By default the budgets running today; with `period` (2026,
2026-Q4 or 2026-11) the budgets overlapping it. Each entry has the budget, spent to date, the expected
total with its 80% interval, the overrun probability, the projected overrun date and the outlook.
Use it for "which budgets are at risk?"; then forecast_budget on one of them for the drivers and the
monthly path. Read-only."""


def register(mcp: MCPServer[AppContext]) -> None:
    mcp.tool(title="Forecast a budget", description=FORECAST_DESCRIPTION, annotations=READ_ONLY)(
        forecast_budget
    )
    mcp.tool(title="Rank budgets by overrun risk", description=RANKING_DESCRIPTION, annotations=READ_ONLY)(
        forecast_budgets
    )


async def forecast_budget(
    ctx: Context[AppContext],
    team: Annotated[
        str, Field(min_length=1, max_length=200, description="The team, by name, e.g. 'Marketing'.")
    ],
    category: Annotated[
        str | None, Field(max_length=200, description="Only this category's budget, by code or name.")
    ] = None,
    period: Annotated[
        PeriodText | None, Field(description="A year '2026', a quarter '2026-Q4' or a month '2026-11'.")
    ] = None,
    date_from: Annotated[
        Day | None, Field(description="First day, YYYY-MM-DD, inclusive (instead of period).")
    ] = None,
    date_to: Annotated[
        Day | None, Field(description="Last day, YYYY-MM-DD, inclusive (with date_from).")
    ] = None,
    chart: Annotated[
        bool, Field(description="Also return a PNG chart of actuals, forecast and intervals vs the budget.")
    ] = False,
) -> Annotated[CallToolResult, BudgetForecast]:
    from tools.forecast import logic, service  # numpy loads with the first forecast, not at start-up

    request = ForecastRequest(team, category, period, date_from, date_to)
    async with tool_call(ctx, "forecast_budget") as call:
        forecast = await service.forecast_budget(call.app, call.session, call.caller, request)
    result = tool_result(forecast, logic.forecast_text(forecast))
    if chart:
        from tools.forecast.chart import render_chart  # matplotlib loads only when a chart is asked for

        png = base64.b64encode(render_chart(forecast)).decode("ascii")
        result.content.append(ImageContent(type="image", data=png, mime_type="image/png"))
    return result


async def forecast_budgets(
    ctx: Context[AppContext],
    period: Annotated[
        PeriodText | None,
        Field(
            description="Budgets overlapping this period, a year '2026', a quarter '2026-Q3' or a month "
            "'2026-07'; default: the budgets running today."
        ),
    ] = None,
    top: Annotated[int, Field(ge=1, le=500, description="How many budgets to list, riskiest first.")] = 20,
) -> Annotated[CallToolResult, BudgetRanking]:
    from tools.forecast import logic, service  # numpy loads with the first forecast, not at start-up

    async with tool_call(ctx, "forecast_budgets") as call:
        ranking = await service.rank_budgets(call.app, call.session, call.caller, period, top)
    return tool_result(ranking, logic.ranking_text(ranking))
