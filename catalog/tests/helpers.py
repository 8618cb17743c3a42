"""Helpers shared by catalog/tests's tests."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

CHANGELIST = reverse("admin:catalog_product_changelist")


ADD = reverse("admin:catalog_product_add")


def change_url(product):
    return reverse("admin:catalog_product_change", args=[product.pk])


def product_form(**overrides):
    data = {
        "sku": "TEA-1",
        "name": "Green tea",
        "price": "120.50",
        "tax_percent": "5",
        "stock": "12",
        "is_active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def list_edit_form(*rows):
    """POST data for the changelist's inline editing: rows of (product, price, stock)."""
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(len(rows)), "_save": "Save"}
    for i, (product, price, stock) in enumerate(rows):
        data.update({f"form-{i}-id": str(product.pk), f"form-{i}-price": price, f"form-{i}-stock": stock})
    return data


HEADER = "sku,name,price,tax_percent,stock\n"


def write(tmp_path, name: str, content: str):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def run(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_stock", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path, *args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("seed_stock", str(path), *args, stdout=out, stderr=err)
    return str(excinfo.value), err.getvalue()
