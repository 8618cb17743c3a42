from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from billing_project.core.roles import CASHIER, HEAD_OFFICE, MANAGER, role_assign, roles_setup
from catalog.models import Store


class Command(BaseCommand):
    help = (
        "Create or update the Head office, Manager and Cashier groups and their permissions (idempotent). "
        "Optionally give existing users a role: --head-office hema --manager alice --cashier bob; they join the "
        "store --store CODE, or, when they work at no store yet, the default store."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--head-office",
            action="append",
            default=[],
            metavar="USERNAME",
            help="Make a user head office (a manager of every store).",
        )
        parser.add_argument("--manager", action="append", default=[], metavar="USERNAME", help="Make a user a manager.")
        parser.add_argument("--cashier", action="append", default=[], metavar="USERNAME", help="Make a user a cashier.")
        parser.add_argument(
            "--store",
            metavar="CODE",
            help="The store the users given a role join (default: the default store, for a user in no store).",
        )

    def handle(self, *args, head_office, manager, cashier, store, **options):
        chosen = None
        if store is not None:
            chosen = Store.objects.filter(code=store).first()
            if chosen is None:
                raise CommandError(
                    f"No such store: {store}. Stores: {', '.join(Store.objects.values_list('code', flat=True))}."
                )
        try:
            result = roles_setup()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        for role, count in result.items():
            self.stdout.write(f"Group {role}: {count} permissions.")
        users = get_user_model().objects
        assignments = (
            [(name, HEAD_OFFICE) for name in head_office]
            + [(name, MANAGER) for name in manager]
            + [(name, CASHIER) for name in cashier]
        )
        missing = [name for name, _ in assignments if not users.filter(username=name).exists()]
        if missing:
            raise CommandError(f"No such user: {', '.join(missing)}. The groups were set up; no role was assigned.")
        for name, role in assignments:
            user = users.get(username=name)
            if chosen is not None:
                user.stores.add(chosen)
            role_assign(user=user, role=role)  # a user in no store joins the default store
            codes = ", ".join(user.stores.order_by("code").values_list("code", flat=True))
            self.stdout.write(f"{name} is now a {role.lower()} (staff, can log in to the admin), at store {codes}.")
        self.stdout.write(self.style.SUCCESS("Roles are set up."))
