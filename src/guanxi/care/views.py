"""The one public care page: a campaign link, which records the opening and forwards to the campaign's page."""

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from guanxi.care import services


def campaign_link(request, token):
    member = services.record_link_opened(token=token)
    target = member.campaign.link_url if member is not None else "/contact/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/contact/"
    return redirect(target)
