"""statsforecast's models as the monthly model calls them: the one module that touches the library.

`import statsforecast` (any of its modules) first runs the package's `__init__`, which imports its
DataFrame layer: pandas, pyarrow, fugue, and statsmodels through `theta`, `ets` and `arima`. That is
~170 MB a server process would hold for the rest of its life after its first forecast (issue 23), for
models whose work is done in the compiled core, `statsforecast._lib`, on numpy arrays.

So Dynamic Optimized Theta, the model the server fits, is called here through that core, loaded without
the package's `__init__`: the same steps as `DynamicOptimizedTheta(season_length=1).forecast(y, h,
fitted=True)` (statsforecast 2.1's `theta.auto_theta` and `theta.forecast_theta` for one model type,
no seasonal decomposition, normal errors), so the numbers are the library's to the bit
(tests/forecast/test_statsforecast_models.py compares them on many series). AutoETS stays the library's
own class, imported with pandas and statsmodels at its first fit: only `outlay eval forecast --models
ets` fits it, never the server.

Both keep the library's names and `forecast(y=, h=, fitted=True)` call, returning its dict of arrays.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

# Bounds and start of the optimizer: `statsforecast.theta.optimize_theta_target_fn`, `initparamtheta`.
_LOWER = np.array([-1e10, 0.1, 1.0])
_UPPER = np.array([1e10, 0.99, 1e10])
_START_ALPHA, _START_THETA = 0.5, 2.0
_NMSE = 3  # auto_theta's default: the in-sample horizons its MSE averages


class DynamicOptimizedTheta:
    """`statsforecast.models.DynamicOptimizedTheta(season_length=1)`, through the compiled core only (the
    monthly model takes the season out itself)."""

    def __init__(self, season_length: int = 1) -> None:
        if season_length != 1:
            raise ValueError("only season_length=1: the seasonal decomposition needs statsmodels")

    def forecast(self, y: np.ndarray, h: int, fitted: bool = False) -> dict[str, np.ndarray]:
        theta = _core().theta
        y = np.asarray(y, dtype=np.float64)
        # (auto_theta also fits a Standard Theta to a constant series and throws the fit away: left out.)
        if len(y) <= 3:
            raise NotImplementedError("tiny datasets")  # auto_theta's refusal
        model = theta.ModelType.DOTM
        start = np.array([y[0] / 2, _START_ALPHA, _START_THETA])
        # `optimize` returns (x, fn, nit, simplex): the fitted initial level, alpha and theta come first.
        level, alpha, theta_ = theta.optimize(
            start, _LOWER, _UPPER, start[0], _START_ALPHA, _START_THETA, True, True, True, y, model, _NMSE
        )[0]
        _, residuals, states, mse = theta.pegels_resid(y, model, level, alpha, theta_, _NMSE)
        if not mse < np.inf:  # NaN or infinite: auto_theta's own refusal
            raise Exception("no model able to be fitted")
        mean = np.empty(h)
        theta.forecast(states, len(y), model, mean, alpha, theta_)
        return {"mean": mean, "fitted": y - residuals} if fitted else {"mean": mean}


class AutoETS:
    """`statsforecast.models.AutoETS` itself, imported at the first fit (pandas and statsmodels with it)."""

    def __init__(self, season_length: int = 1, model: str = "ZZZ") -> None:
        self.season_length, self.model = season_length, model

    def forecast(self, y: np.ndarray, h: int, fitted: bool = False) -> dict[str, np.ndarray]:
        from statsforecast.models import AutoETS as LibraryAutoETS

        ets = LibraryAutoETS(season_length=self.season_length, model=self.model)
        return dict(ets.forecast(y=y, h=h, fitted=fitted))


@cache
def _core() -> ModuleType:
    """`statsforecast._lib`, the library's compiled models, without running `statsforecast/__init__`.
    Registered under its own name, so that a later `import statsforecast` (AutoETS) reuses it."""
    if (loaded := sys.modules.get("statsforecast._lib")) is not None:
        return loaded
    package = importlib.util.find_spec("statsforecast")  # finds a top-level package without importing it
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("statsforecast is not installed", name="statsforecast")
    folders = [Path(folder) for folder in package.submodule_search_locations]
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    paths = [folder / f"_lib{suffix}" for folder in folders for suffix in suffixes]
    path = next((path for path in paths if path.exists()), None)
    spec = importlib.util.spec_from_file_location("statsforecast._lib", path) if path else None
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError("statsforecast has no compiled core (_lib)", name="statsforecast._lib")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["statsforecast._lib"] = module
    return module
