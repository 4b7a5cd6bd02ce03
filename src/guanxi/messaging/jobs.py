"""The outbox sweep: a message is never lost because its task was (see services.requeue_forgotten)."""

import datetime

from guanxi.core.jobs import periodic
from guanxi.messaging import services


@periodic("messaging.requeue_forgotten", every=datetime.timedelta(minutes=15), catch_up=1)
def requeue_forgotten(period: datetime.datetime) -> None:
    services.requeue_forgotten()
