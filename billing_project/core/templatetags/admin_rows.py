"""``{% load admin_rows %}``: ``{% result_rows cl %}`` is admin_list's ``{% result_list cl %}`` (the same
template, change_list_results.html, looked up per model as Django does), with a
``RowLinksChangeList``'s rows written by ``core.admin_helpers.ListRows``."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from billing_project.core.admin_helpers import result_list

register = template.Library()


@register.tag(name="result_rows")
def result_rows_tag(parser, token):
    # As admin_list's result_list tag (django-stubs give the node a first argument Django's has not).
    return InclusionAdminNode(  # type: ignore[call-arg]
        parser, token, func=result_list, template_name="change_list_results.html", takes_context=False
    )
