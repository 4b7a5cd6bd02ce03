"""Mail goes on its own queue so bulk work never delays it; the task is thin (one service call)."""

from django.tasks import task

from guanxi.messaging import services


@task(queue_name="mail")
def send_email(email_id: int) -> bool:
    return services.send_outbound(email_id=email_id)
