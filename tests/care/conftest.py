import pytest

from tests.factories import make_customer


@pytest.fixture
def current_customer(rep):
    return make_customer(rep, name="李明华", state="current", email="lmh@example.com")


@pytest.fixture
def score():
    """score({customer: grade}, current=True): a finished scoring run that graded these customers."""
    import datetime

    from guanxi.insights.models import CustomerScore, ScoringRun

    def make(grades: dict, *, current: bool = True):
        if current:
            ScoringRun.objects.filter(is_current=True).update(is_current=False)
        run = ScoringRun.objects.create(as_of=datetime.date(2026, 1, 1), status=ScoringRun.Status.DONE, is_current=current)
        day = datetime.date(2025, 6, 1)
        CustomerScore.objects.bulk_create([
            CustomerScore(run=run, customer=customer, recency_score=3, frequency_score=3, monetary_score=3, rfm_cell=333,
                          value_segment="best", behaviour_segment="loyal", grade=grade, stage="stability", orders=1,
                          first_order_on=day, last_order_on=day)
            for customer, grade in grades.items()])
        return run

    return make
