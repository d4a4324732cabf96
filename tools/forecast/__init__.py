"""Forecast capability: forecast_budget and forecast_budgets."""

from tools.forecast.tool import register

__all__ = ["register"]
