from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, except that a ``?format=`` naming a format the endpoint does not produce is 406
    ``not_acceptable``, as an ``Accept`` header it cannot satisfy is, instead of DRF's 404: the resource
    exists, it just has no such form. A format suffix in the path (``/products/1.xml``) stays a 404:
    that path does not exist."""

    def select_renderer(self, request, renderers, format_suffix=None):
        wanted = None if format_suffix else request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        # Present but empty too: DRF would ignore `?format=`, a value no endpoint documents.
        if wanted is not None and not any(renderer.format == wanted for renderer in renderers):
            formats = ", ".join(renderer.format for renderer in renderers)
            raise NotAcceptable(f"Unknown `format`; this endpoint produces: {formats}.")
        return super().select_renderer(request, renderers, format_suffix)
