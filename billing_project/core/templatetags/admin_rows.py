"""``{% load admin_rows %}``: ``{% result_list_rows cl %}`` is Django's ``{% result_list cl %}`` (the
admin list's table, from the same ``change_list_results.html``), its rows written by
``billing_project.core.admin_rows.list_rows``."""

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_hidden_fields
from django.contrib.admin.templatetags.base import InclusionAdminNode

from billing_project.core.admin_rows import list_rows

register = template.Library()


def result_list_rows(cl):
    """Django's ``result_list`` (``django.contrib.admin.templatetags.admin_list``), with ``list_rows``."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": list_rows(cl),
    }


@register.tag(name="result_list_rows")
def result_list_rows_tag(parser, token):
    # django-stubs gives InclusionAdminNode a first argument (name) that Django 5.2's has not.
    return InclusionAdminNode(  # type: ignore[call-arg]
        parser, token, func=result_list_rows, template_name="change_list_results.html", takes_context=False
    )
