"""Published reference data sets, loaded once per test session (see tests/data/README.md)."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def cdnow_summary() -> SimpleNamespace:
    """Fader–Hardie's CDNOW calibration summary: 2,357 customers, 39 weeks, x / t_x / T."""
    table = np.genfromtxt(DATA / "cdnow_customers_summary.csv", delimiter=",", names=True)
    return SimpleNamespace(
        ids=table["ID"].astype(int), x=table["frequency"], t_x=table["recency"], T=table["T"]
    )


@pytest.fixture(scope="session")
def cdnow_spend() -> SimpleNamespace:
    """The same customers with zbar, the average value of their repeat transactions."""
    table = np.genfromtxt(DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True)
    return SimpleNamespace(ids=table["ID"].astype(int), x=table["x"], zbar=table["zbar"])


@pytest.fixture(scope="session")
def cdnow_transactions() -> SimpleNamespace:
    """CDNOW_sample.txt: master id, sample id, yyyymmdd date, CD count, dollar amount."""
    raw = np.loadtxt(DATA / "CDNOW_sample.txt", dtype=str)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    return SimpleNamespace(ids=raw[:, 1].astype(int), dates=dates, amounts=raw[:, 4].astype(float))


@pytest.fixture(scope="session")
def mobi() -> dict[str, np.ndarray]:
    """The ECSI mobile-phone survey (250 respondents × 24 items, 1–10 scales) as column → values."""
    table = np.genfromtxt(DATA / "mobi.csv", delimiter=",", names=True, dtype=float)
    return {name: table[name] for name in table.dtype.names}
