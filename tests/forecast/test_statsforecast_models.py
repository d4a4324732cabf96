"""statsforecast_models.py calls Theta through statsforecast's compiled core, without its DataFrame layer:
the numbers must be the library's own to the bit, and a forecast must not load pandas or statsmodels."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from statsforecast.models import DynamicOptimizedTheta as LibraryTheta

from tools.forecast.statsforecast_models import DynamicOptimizedTheta


def _series() -> list[np.ndarray]:
    """Monthly totals of the shapes the model sees: noisy, trending, lumpy, flat, negative, short, long."""
    rng = np.random.default_rng(23)
    series = [np.full(12, 5000.0), np.array([1.0, 2.0, 3.0, 4.0]), np.arange(36, dtype=float) * -10]
    for months in (4, 6, 9, 12, 18, 24, 27, 30, 36):
        t = np.arange(months)
        series += [
            rng.normal(20_000, 3_000, months),
            20_000 * 1.03**t * rng.normal(1, 0.05, months),
            np.round(rng.lognormal(9, 1, months)),
            rng.normal(0, 500, months),
        ]
    return series


@pytest.mark.parametrize("h", [1, 3, 12])
def test_theta_is_the_librarys_to_the_bit(h: int) -> None:
    for y in _series():
        ours = DynamicOptimizedTheta(season_length=1).forecast(y=y, h=h, fitted=True)
        library = LibraryTheta(season_length=1).forecast(y=y, h=h, fitted=True)

        assert ours.keys() == library.keys()
        for key in ours:
            np.testing.assert_array_equal(ours[key], library[key], err_msg=f"{key}, {len(y)} months")


def test_theta_refuses_what_the_library_refuses() -> None:
    with pytest.raises(NotImplementedError, match="tiny datasets"):
        DynamicOptimizedTheta().forecast(y=np.array([1.0, 2.0, 3.0]), h=2)
    with pytest.raises(ValueError, match="season_length=1"):
        DynamicOptimizedTheta(season_length=12)


# A forecast in a fresh process, then AutoETS (the library's own, statsforecast imported whole after the
# core was loaded on its own): which of the heavy modules each step loaded.
PROBE = """\
import json, sys
import numpy as np
from tools.forecast.model import forecast_months

heavy = ("pandas", "pyarrow", "statsmodels", "fugue", "statsforecast.core")
y = 20_000 + 1_000 * np.sin(np.arange(30))
theta = forecast_months(y, 6, "theta")
after_theta = [name for name in heavy if name in sys.modules]
ets = forecast_months(y, 6, "theta+ets")
print(json.dumps({"after_theta": after_theta, "theta": theta.mean.tolist(), "ets": ets.mean.tolist()}))
"""


def test_a_forecast_loads_no_dataframe_library_and_ets_still_runs_after_it() -> None:
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    result = json.loads(run.stdout)

    assert result["after_theta"] == []
    assert len(result["ets"]) == 6
    assert result["ets"] != result["theta"]
